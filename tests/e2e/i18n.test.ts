/**
 * Two languages in a real browser: the first visit follows the browser's language, the switcher
 * changes the text in place (no reload) and the choice survives a reload; "My projects" lists the
 * project this browser created, in the current language, and forgets it on request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServerProcess, type ServerProcess } from '../helpers/process-server';
import { shot } from '../helpers/screenshots';
import { ensureChromium } from '../../scripts/chromium';
import { MESSAGES, en } from '../../app/_i18n/messages';
import { LAUNCH_ARGS } from '../helpers/browser';

const zhLanding = MESSAGES['zh-CN'].landing as typeof en.landing;
const zhProjects = MESSAGES['zh-CN'].projects as typeof en.projects;
const zhCommon = MESSAGES['zh-CN'].common as typeof en.common;


/** True when nothing on the page is wider than the viewport (no sideways scrolling on a phone); else the culprits. */
async function fitsWidth(page: Page): Promise<{ ok: boolean; scrollWidth: number; width: number; wide?: string[] }> {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth <= width) return { ok: true, scrollWidth, width };
    // The innermost elements sticking out on the right, to say what to fix.
    const wide = [...document.body.querySelectorAll<HTMLElement>('*')]
      .filter((el) => el.getBoundingClientRect().right > width + 1 && ![...el.children].some((c) => c.getBoundingClientRect().right > width + 1))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : ''} "${(el.textContent ?? '').trim().slice(0, 40)}" right=${Math.round(el.getBoundingClientRect().right)}`);
    return { ok: false, scrollWidth, width, wide };
  });
}

describe('English and Simplified Chinese', () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    server = await startServerProcess();
    browser = await chromium.launch({ executablePath: ensureChromium(), args: LAUNCH_ARGS });
  });

  after(async () => {
    await browser?.close();
    if (process.env.E2E_DUMP_LOG) console.error(server?.output());
    await server?.stop();
    server?.cleanup();
  });

  test('a Chinese browser gets Chinese at once; switching to English needs no reload and sticks', { timeout: 180_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.5' } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    // First visit: server-rendered in Chinese (no cookie yet), html lang set.
    const first = await (await fetch(server.url, { headers: { 'accept-language': 'zh-CN,zh;q=0.9' } })).text();
    assert.ok(first.includes(zhLanding.createTitle), 'the server renders the landing page in Chinese');
    await page.goto(server.url);
    await page.getByRole('heading', { level: 1, name: zhLanding.title }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await page.getByTestId('my-projects-empty').getByText(zhProjects.mine.empty).waitFor();
    assert.deepEqual(await fitsWidth(page), { ok: true, scrollWidth: 390, width: 390 });
    await shot(page, 'i18n-zh-landing-390');

    // Create a project in Chinese; it appears in "My projects" as owned.
    await page.locator('input[name="projectName"]').fill('螺旋挑战');
    await page.locator('input[name="displayName"]').fill('小明');
    await page.getByRole('button', { name: zhProjects.create.submit }).click();
    await page.waitForURL(/\/p\/[\w-]+$/);
    const slug = new URL(page.url()).pathname.split('/').pop()!;
    await page.locator('[data-field="learningRate"]').waitFor();
    const workspace = await fitsWidth(page);
    assert.ok(workspace.ok, `the Chinese workspace is wider than 390 px: ${JSON.stringify(workspace)}`);
    await shot(page, 'i18n-zh-project-390');

    await page.goto(server.url);
    const row = page.locator(`[data-testid="my-project"][data-slug="${slug}"]`);
    await row.getByText('螺旋挑战').waitFor();
    assert.equal(await row.getByTestId('my-project-role').textContent(), zhCommon.roles.owner);
    assert.match((await row.locator('time').textContent())!, /打开过$/);
    assert.equal((await fitsWidth(page)).ok, true);

    // Switch to English in place: the same document (marker survives), the text changes.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await page.getByTestId('language').selectOption('en');
    await page.getByRole('heading', { level: 1, name: en.landing.title }).waitFor();
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal(await row.getByTestId('my-project-role').textContent(), en.common.roles.owner);
    assert.match((await row.locator('time').textContent())!, /^Opened /);

    // Still English after a reload (the choice is a cookie the server reads).
    await page.reload();
    await page.getByRole('heading', { level: 1, name: en.landing.title }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), undefined, 'this time it did reload');
    await shot(page, 'i18n-en-landing-390');
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot(page, 'i18n-en-landing-1280');

    // Forget: gone from the list, the empty state is back; the sign-in itself stays.
    await row.getByTestId('forget-project').click();
    await page.getByTestId('my-projects-empty').waitFor();
    await page.reload();
    await page.getByTestId('my-projects-empty').waitFor();

    // The claim page speaks the chosen language too, and has the switcher.
    await page.goto(`${server.url}/claim#${slug}`);
    await page.getByTestId('claim-error').getByText(en.projects.claim.bad).waitFor();
    await page.getByTestId('language').selectOption('zh-CN');
    await page.getByTestId('claim-error').getByText(zhProjects.claim.bad).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal((await fitsWidth(page)).ok, true);
    await shot(page, 'i18n-zh-claim-390');

    assert.deepEqual(errors, []);
    await context.close();
  });
});

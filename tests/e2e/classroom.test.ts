/**
 * Classroom mode in real Chromium: the projector view (join link, code, QR code, live count),
 * students joining from phone-sized screens as a participant and as a viewer, and the owner's
 * controls (hide and rename a name on the projector, lock the spec).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import QRCode from 'qrcode';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freePort, startServerProcess, type ServerProcess } from '../helpers/process-server';
import { shot } from '../helpers/screenshots';
import { QR_OPTIONS } from '../../app/_components/classroom/qr';
import { LAUNCH_ARGS } from '../helpers/browser';


/** An iPhone-12-sized browser: 390×844 CSS px, touch, mobile viewport. */
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/** The names the projector shows right now. */
async function projectorNames(page: Page): Promise<string[]> {
  return page.getByTestId('present-name').allTextContents();
}

async function participantCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('participant-count').getAttribute('data-count'));
}

describe('classroom mode', () => {
  let server: ServerProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  // A classroom address nobody can reach from here (TEST-NET-1): join links must use it, not the page's.
  let publicUrl: string;

  before(async () => {
    const port = await freePort();
    publicUrl = `http://192.0.2.10:${port}`;
    server = await startServerProcess({ port, env: { PUBLIC_URL: publicUrl } });
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: LAUNCH_ARGS });
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    if (process.env.E2E_DUMP_LOG) console.error(server?.output());
    await server?.stop();
    server?.cleanup();
  });

  const newContext = async (options: Parameters<Browser['newContext']>[0]) => {
    const context = await browser.newContext(options);
    contexts.push(context);
    return context;
  };
  const watchErrors = (page: Page, who: string) => page.on('pageerror', (error) => console.error(`${who} page error: ${error.message}`));

  test('projector shows the link, code and QR code; phones join; the count goes up; hidden names disappear', { timeout: 300_000 }, async () => {
    // The owner creates the project and signs this browser in (the owner link does the same).
    const created = await fetch(`${server.url}/api/projects`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Period 3', ownerName: 'Ms. Rivera' }) });
    const { slug, joinCode, ownerToken } = (await created.json()) as { slug: string; joinCode: string; ownerToken: string };
    const teacher = await newContext({ viewport: { width: 1920, height: 1080 } });
    const signedIn = await teacher.request.post(`${server.url}/api/projects/${slug}/session`, { headers: { authorization: `Bearer ${ownerToken}` }, data: {} });
    assert.equal(signedIn.status(), 200);

    // The projector: code, link (from PUBLIC_URL) and a QR code of exactly that link.
    const projector = await teacher.newPage();
    watchErrors(projector, 'projector');
    await projector.goto(`${server.url}/p/${slug}/present`);
    await projector.getByTestId('present-code').filter({ hasText: joinCode }).waitFor();
    const link = `${publicUrl}/p/${slug}?code=${joinCode}`;
    assert.equal((await projector.getByTestId('present-link').textContent())?.trim(), link.replace(/^http:\/\//, ''));
    const qr = projector.getByTestId('join-qr');
    await qr.locator('svg').waitFor();
    assert.equal(await qr.getAttribute('data-link'), link);
    // The drawn modules are exactly those of a QR code of the link (same package, same options).
    const expectedModules = /<path stroke="[^"]+" d="([^"]+)"/.exec(await QRCode.toString(link, QR_OPTIONS))?.[1];
    assert.ok(expectedModules);
    assert.equal(await qr.locator('svg path[stroke]').getAttribute('d'), expectedModules, 'the QR code encodes the join link');
    assert.equal(await projector.getByTestId('localhost-warning').count(), 0, 'no localhost warning with PUBLIC_URL set');
    // The code is big: a projector across a classroom.
    const codeSize = await projector.getByTestId('present-code').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(codeSize >= 96, `join code font size ${codeSize}px`);
    // The QR code's own square (its white background), as drawn.
    const qrBox = await qr.locator('svg path[fill]').boundingBox();
    assert.ok(qrBox && qrBox.width >= 300 && Math.abs(qrBox.width - qrBox.height) < 2, `QR code drawn ${qrBox?.width}×${qrBox?.height}px`);
    // Nothing spills out of a 1920×1080 screen.
    const overflow = await projector.evaluate(() => ({ w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight }));
    assert.ok(overflow.w <= 1920 && overflow.h <= 1080, `projector page is ${overflow.w}×${overflow.h}`);
    await projector.waitForFunction(() => document.querySelector('[data-testid="participant-count"]')?.getAttribute('data-count') === '0');
    await shot(projector, 'classroom-01-projector-empty');

    // The owner's workspace in another tab: classroom controls and the members list.
    const workspace = await teacher.newPage();
    watchErrors(workspace, 'owner');
    await workspace.setViewportSize({ width: 1280, height: 900 });
    await workspace.goto(`${server.url}/p/${slug}`);
    await workspace.getByTestId('owner-controls').waitFor();
    // The projector's own connections are watch-only: it is not counted, and not in the online list.
    await workspace.getByTestId('online-list').getByText('Ms. Rivera').waitFor();
    assert.equal(await participantCount(projector), 0);

    // A student joins from a phone through the join link (its path on the address reachable here).
    const phoneA = await (await newContext(PHONE)).newPage();
    watchErrors(phoneA, 'phone A');
    await phoneA.goto(`${server.url}${new URL(link).pathname}${new URL(link).search}`);
    assert.equal(await phoneA.locator('input[name="code"]').inputValue(), joinCode, 'code filled in from the link');
    await shot(phoneA, 'classroom-02-phone-join');
    await phoneA.locator('input[name="name"]').fill('Student A');
    await phoneA.getByRole('button', { name: 'Join project' }).click();
    await phoneA.locator('[data-field="learningRate"]').waitFor();
    await projector.waitForFunction(() => document.querySelector('[data-testid="participant-count"]')?.getAttribute('data-count') === '1', null, { timeout: 15_000 });
    await projector.getByTestId('present-name').filter({ hasText: 'Student A' }).waitFor();
    // The phone page fits the phone: nothing wider than 390 px.
    const phoneWidth = await phoneA.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(phoneWidth <= 390, `phone page is ${phoneWidth}px wide`);
    await shot(phoneA, 'classroom-03-phone-workspace');

    // A second student only watches: read-only editor, never trains, still counted.
    const phoneB = await (await newContext(PHONE)).newPage();
    watchErrors(phoneB, 'phone B');
    await phoneB.goto(`${server.url}/p/${slug}?code=${joinCode}`);
    await phoneB.locator('input[name="name"]').fill('Watcher B');
    await phoneB.getByTestId('join-as-viewer').check();
    await phoneB.getByRole('button', { name: 'Watch the project' }).click();
    await phoneB.getByTestId('read-only-notice').waitFor();
    assert.equal(await phoneB.getByTestId('read-only-notice').getAttribute('data-reason'), 'viewer');
    assert.equal(await phoneB.locator('[data-field="learningRate"]').isDisabled(), true, 'viewer editor is read-only');
    assert.equal(await phoneB.getByTestId('signed-in-as').getAttribute('data-role'), 'viewer');
    await projector.waitForFunction(() => document.querySelector('[data-testid="participant-count"]')?.getAttribute('data-count') === '2', null, { timeout: 15_000 });
    await shot(phoneB, 'classroom-04-phone-viewer');

    // The owner hides Student A's name: it leaves the projector; the count stays.
    const rowA = workspace.getByTestId('admin-member').filter({ hasText: 'Student A' });
    await rowA.waitFor();
    await rowA.getByTestId('admin-hide').click();
    await projector.waitForFunction(() => ![...document.querySelectorAll('[data-testid="present-name"]')].some((el) => el.textContent?.includes('Student A')), null, { timeout: 15_000 });
    assert.deepEqual(await projectorNames(projector), ['Watcher B']);
    assert.equal(await participantCount(projector), 2);

    // …and renames the watcher on the projector.
    // (By id: while renaming, the name is an input's value, not the row's text.)
    const idB = await workspace.getByTestId('admin-member').filter({ hasText: 'Watcher B' }).getAttribute('data-member-id');
    const rowB = workspace.locator(`[data-testid="admin-member"][data-member-id="${idB}"]`);
    await rowB.getByTestId('admin-rename').click();
    await rowB.getByTestId('admin-rename-input').fill('Bea');
    await rowB.getByTestId('admin-rename-input').press('Enter');
    await projector.getByTestId('present-name').filter({ hasText: 'Bea' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(await projectorNames(projector), ['Bea']);
    // The new name reaches everyone's online list live, and the renamed student's own header.
    await workspace.getByTestId('online-list').getByText('Bea').waitFor({ timeout: 15_000 });
    await phoneB.getByTestId('signed-in-as').filter({ hasText: 'Bea' }).waitFor({ timeout: 15_000 });
    await shot(workspace, 'classroom-05-owner-workspace');
    await shot(projector, 'classroom-06-projector-live');

    // Locking the spec: Student A's editor turns read-only with a lock notice, live.
    await workspace.getByTestId('lock-spec').click();
    await phoneA.getByTestId('read-only-notice').waitFor({ timeout: 15_000 });
    assert.equal(await phoneA.getByTestId('read-only-notice').getAttribute('data-reason'), 'locked');
    assert.equal(await phoneA.locator('[data-field="learningRate"]').isDisabled(), true);
    await shot(phoneA, 'classroom-07-phone-locked');
    await workspace.getByTestId('lock-spec').click();
    await phoneA.getByTestId('read-only-notice').waitFor({ state: 'detached', timeout: 15_000 });

    // The owner removes Student A: the phone says so and offers the join form; after a reload the
    // owner's list no longer has them.
    await rowA.getByTestId('admin-remove').click();
    await rowA.getByTestId('admin-remove-confirm').click();
    await phoneA.getByTestId('removed-notice').waitFor({ timeout: 15_000 });
    assert.equal(await phoneA.locator('input[name="code"]').count(), 1, 'the join form is back');
    await shot(phoneA, 'classroom-09-phone-removed');
    await workspace.reload();
    await workspace.getByTestId('admin-member').first().waitFor();
    assert.deepEqual(await workspace.getByTestId('admin-member-name').allTextContents(), ['Bea']);

    // On a laptop-sized window the projector view still fits and reads well.
    await projector.setViewportSize({ width: 1280, height: 800 });
    await shot(projector, 'classroom-08-projector-laptop');
  });
});

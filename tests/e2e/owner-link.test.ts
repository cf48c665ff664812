/**
 * The owner recovery link in real browsers: shown once after creating a project, it signs
 * another browser in as the owner; making a new one signs that browser out at once, while the
 * browser that made it stays in. Needs <OwnerLink> mounted on the project page (Workspace).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServerProcess, type ServerProcess } from '../helpers/process-server';
import { shot } from '../helpers/screenshots';
import { ensureChromium } from '../../scripts/chromium';
import { en } from '../../app/_i18n/messages';
import { LAUNCH_ARGS } from '../helpers/browser';

const MOUNTED = readFileSync('app/_components/Workspace.tsx', 'utf8').includes('<OwnerLink');

/** This page's role in the project, as the API sees its cookie (null: not signed in). */
async function roleOf(page: Page, url: string, slug: string): Promise<string | null> {
  const res = await page.request.get(`${url}/api/projects/${slug}`);
  return res.ok() ? ((await res.json()) as { member: { role: string } }).member.role : null;
}

describe('owner link in the browser', { skip: MOUNTED ? false : 'OwnerLink is not mounted in Workspace.tsx yet' }, () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    server = await startServerProcess();
    browser = await chromium.launch({ executablePath: ensureChromium(), args: LAUNCH_ARGS });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('shown once at creation, it signs in another browser; a new link signs that one out', { timeout: 180_000 }, async () => {
    const newPage = async () => (await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' })).newPage();
    const owner = await newPage();
    await owner.goto(server.url);
    await owner.locator('input[name="projectName"]').fill('Recoverable');
    await owner.locator('input[name="displayName"]').fill('Olga');
    await owner.locator('input[name="displayName"]').press('Enter');
    await owner.waitForURL(/\/p\/[\w-]+$/);
    const slug = new URL(owner.url()).pathname.split('/').pop()!;

    const panel = owner.getByTestId('owner-link');
    await panel.getByText(en.projects.ownerLink.createdTitle).waitFor();
    const first = await owner.getByTestId('owner-link-url').inputValue();
    assert.match(first, new RegExp(`^${server.url}/claim#${slug}\\.`));
    await shot(owner, 'owner-link-created-390');
    await owner.getByTestId('owner-link-saved').click();
    await owner.getByTestId('new-owner-link').waitFor();
    // Once means once: a reload does not show it again.
    await owner.reload();
    await owner.getByTestId('new-owner-link').waitFor();
    assert.equal(await owner.getByTestId('owner-link-url').count(), 0);

    // The "lost laptop": another browser opens the link and is the owner.
    const laptop = await newPage();
    await laptop.goto(first);
    await laptop.waitForURL(new RegExp(`/p/${slug}$`));
    assert.equal(await roleOf(laptop, server.url, slug), 'owner');

    // A new link: the laptop is out at once; this browser stays in; the new link works.
    await owner.getByTestId('new-owner-link').click();
    await owner.getByTestId('confirm-owner-link').click();
    const second = await owner.getByTestId('owner-link-url').inputValue();
    assert.notEqual(second, first);
    await panel.getByText(en.projects.ownerLink.madeHint).waitFor();
    assert.equal(await roleOf(laptop, server.url, slug), null);
    assert.equal(await roleOf(owner, server.url, slug), 'owner');

    const phone = await newPage();
    await phone.goto(first);
    await phone.getByTestId('claim-error').waitFor();
    await phone.goto(second);
    await phone.waitForURL(new RegExp(`/p/${slug}$`));
    assert.equal(await roleOf(phone, server.url, slug), 'owner');
  });
});

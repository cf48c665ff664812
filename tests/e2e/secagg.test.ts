import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { createShapedProject, joinMember, participant, type Participant } from '../helpers/clients';
import { startServerProcess, type ServerProcess } from '../helpers/process-server';
import path from 'node:path';
import { SHOTS, shot } from '../helpers/screenshots';
import { api, waitFor } from '../helpers/server';
import { networkInterfaces } from 'node:os';
import { LAUNCH_ARGS } from '../helpers/browser';


/** A non-loopback IPv4 address of this machine: pages served from it are not a secure context. */
function lanAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return null;
}

async function signedIn(browser: Browser, origin: string, slug: string, token: string, width: number): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const session = await context.request.post(`${origin}/api/projects/${slug}/session`, { headers: { authorization: `Bearer ${token}`, origin }, data: {} });
  assert.equal(session.status(), 200);
  return context;
}

describe('secure aggregation in the browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  const open: Participant[] = [];

  before(async () => {
    // Every interface, so the same server can be opened over a LAN address (an insecure context).
    server = await startServerProcess({ env: { HOST: '0.0.0.0' } });
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: LAUNCH_ARGS });
  });
  after(async () => {
    for (const p of open) p.close();
    await browser?.close();
    if (process.env.E2E_DUMP_LOG) console.error(server?.output());
    await server?.stop();
    server?.cleanup();
  });

  test('a browser on localhost masks its updates with a headless peer, and the training view says how each round was summed', { timeout: 240_000 }, async () => {
    const { slug, joinCode, ownerToken } = await createShapedProject(server.url, { 'privacy.secureAggregation': 'on', 'sampling.minClients': 2, 'dataset.samples': 200, rounds: 2, localEpochs: 1 }, 'Masked');
    const context = await signedIn(browser, server.url, slug, ownerToken, 1280);
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.goto(`${server.url}/p/${slug}`);
    const note = page.getByTestId('secagg-note');
    await note.waitFor();
    assert.equal(await page.getByTestId('secagg-insecure').count(), 0, 'localhost is a secure context');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="training-client"][data-contribute="true"]').length === 1, null, { timeout: 60_000 });

    const peer = await participant(server.url, slug, await joinMember(server.url, joinCode, 'peer'), 'peer');
    open.push(peer);
    const sent: string[] = [];
    peer.client.socket.onAnyOutgoing((_e, m: { type: string }) => sent.push(m.type));
    const started = await api(server.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202, JSON.stringify(started.body));

    const outcome = page.getByTestId('secagg-outcome');
    await outcome.waitFor({ timeout: 120_000 });
    await waitFor(async () => (await page.getByTestId('secagg-phase').getAttribute('data-phase')) === 'idle' || (await outcome.textContent())?.includes('Round 2'), 120_000, 'the run to finish');
    assert.equal(await outcome.getAttribute('data-outcome'), 'complete');
    assert.match((await outcome.textContent()) ?? '', /sum of 2 masked updates/);
    assert.ok(sent.includes('secagg_masked') && !sent.includes('update'), 'the peer only ever sent masked updates');
    await page.getByTestId('secagg-status').scrollIntoViewIfNeeded();
    await shot(page, 'secagg-status-1280');
    await page.getByTestId('secagg-status').screenshot({ path: path.join(SHOTS, 'secagg-status-card-1280.png') });
    await page.getByTestId('privacy-fields').screenshot({ path: path.join(SHOTS, 'secagg-note-1280.png') });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('secagg-status').scrollIntoViewIfNeeded();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no sideways scrolling at 390 px (${overflow} px too wide)`);
    await shot(page, 'secagg-status-390');
    await page.getByTestId('secagg-status').screenshot({ path: path.join(SHOTS, 'secagg-status-card-390.png') });
    await page.getByTestId('privacy-fields').screenshot({ path: path.join(SHOTS, 'secagg-note-390.png') });
    await context.close();
  });

  test('a browser on a plain http LAN address says it cannot take part, and why', { timeout: 120_000 }, async (t) => {
    const lan = lanAddress();
    if (!lan) return t.skip('no non-loopback IPv4 address on this machine');
    const origin = server.url.replace('127.0.0.1', lan);
    const { slug, ownerToken } = await createShapedProject(server.url, { 'privacy.secureAggregation': 'on', 'sampling.minClients': 2 }, 'Insecure');
    const context = await signedIn(browser, origin, slug, ownerToken, 390);
    const page = await context.newPage();
    await page.goto(`${origin}/p/${slug}`);
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    const error = page.getByTestId('secagg-insecure');
    await error.waitFor({ timeout: 60_000 });
    assert.match((await error.textContent()) ?? '', /HTTPS/);
    await error.scrollIntoViewIfNeeded();
    await shot(page, 'secagg-insecure-390');
    await page.getByTestId('secagg-note').screenshot({ path: path.join(SHOTS, 'secagg-insecure-note-390.png') });
    await context.close();
  });
});

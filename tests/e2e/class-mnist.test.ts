import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { setScalar } from '../../server/protocol/spec-doc';
import type { ScalarField } from '../../server/protocol';
import { startServerProcess, type ServerProcess } from '../helpers/process-server';
import { SHOTS, shot } from '../helpers/screenshots';
import { connectDoc } from '../helpers/yjs';
import { waitFor } from '../helpers/server';
import { LAUNCH_ARGS } from '../helpers/browser';

const ROUNDS = 5;

/**
 * Issue 5 §9: a classroom in three browser contexts — the teacher's projector view and two
 * students (a laptop and a phone) — trains MNIST with a non-IID split (2 digits per student) for
 * 5 rounds. The projector's chart and both students' contributions tables and scale charts
 * follow the run; the projector never trains.
 */
describe('a class trains MNIST non-IID: projector plus two students', () => {
  let server: ServerProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess();
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: LAUNCH_ARGS });
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    if (process.env.E2E_DUMP_LOG) console.error(server?.output());
    await server?.stop();
    server?.cleanup();
  });

  const newPage = async (who: string, options: BrowserContextOptions): Promise<Page> => {
    const context = await browser.newContext(options);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`${who} page error: ${error.message}`));
    return page;
  };
  const chartRounds = (page: Page, testId: string) => page.getByTestId(testId).first().getAttribute('data-rounds').then(Number);

  test('projector and students see the charts and the contributions table follow 5 rounds', { timeout: 480_000 }, async () => {
    const created = await fetch(`${server.url}/api/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Digits, period 4', ownerName: 'Mr. Chen', template: 'mnist_mlp' }),
    });
    const { slug, joinCode, ownerToken } = (await created.json()) as { slug: string; joinCode: string; ownerToken: string };
    // The teacher prepares the spec: non-IID (2 digits per student), 5 rounds, a class-sized subset.
    const editor = await connectDoc(server.url, slug, ownerToken);
    const values: Partial<Record<ScalarField, string | number>> = {
      rounds: ROUNDS,
      'partition.kind': 'classes',
      'partition.classesPerClient': 2,
      'dataset.samples': 2000,
      'sampling.minClients': 2,
      localEpochs: 1,
    };
    for (const [path, value] of Object.entries(values)) setScalar(editor.doc, path as ScalarField, value!);
    await new Promise((r) => setTimeout(r, 500));
    editor.close();

    // The projector: the teacher's browser, signed in as owner.
    const projector = await newPage('projector', { viewport: { width: 1920, height: 1080 } });
    const session = await projector.context().request.post(`${server.url}/api/projects/${slug}/session`, { headers: { authorization: `Bearer ${ownerToken}` }, data: {} });
    assert.equal(session.status(), 200);
    await projector.goto(`${server.url}/p/${slug}/present`);
    await projector.getByTestId('present-code').filter({ hasText: joinCode }).waitFor();

    // Two students join: one on a laptop, one on a phone.
    const laptop = await newPage('laptop', { viewport: { width: 1280, height: 900 } });
    const phone = await newPage('phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    for (const [page, name] of [[laptop, 'Ana'], [phone, 'Bo']] as const) {
      await page.goto(`${server.url}/p/${slug}?code=${joinCode}`);
      await page.locator('input[name="name"]').fill(name);
      await page.getByRole('button', { name: 'Join project' }).click();
      await page.locator('[data-field="learningRate"]').waitFor({ timeout: 60_000 });
    }
    await projector.waitForFunction(() => document.querySelector('[data-testid="participant-count"]')?.getAttribute('data-count') === '2', null, { timeout: 30_000 });
    await shot(projector, 'mnist-01-projector-ready');

    // Train (the owner's API call the projector's controls make); wait for both students' compute.
    const start = async () =>
      fetch(`${server.url}/api/projects/${slug}/train`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerToken}` }, body: '{}' });
    const started = await start();
    const startedBody = await started.text();
    assert.equal(started.status, 202, startedBody);
    const { runId } = JSON.parse(startedBody) as { runId: string };
    const runStatus = async () => {
      const res = await fetch(`${server.url}/api/projects/${slug}/runs/${runId}`, { headers: { authorization: `Bearer ${ownerToken}` } });
      return ((await res.json()) as { run: { status: string; lastRound: number } }).run;
    };

    // Mid-run: the projector's chart has points and the laptop's table counts accepted updates.
    await waitFor(async () => (await runStatus()).lastRound >= 2, 300_000, 'two rounds');
    await projector.waitForFunction(() => Number(document.querySelector('[data-testid="metrics-chart"]')?.getAttribute('data-rounds')) >= 3, null, { timeout: 30_000 });
    await shot(projector, 'mnist-02-projector-training');

    await waitFor(async () => (await runStatus()).status === 'finished', 300_000, 'the run to finish');
    assert.equal((await runStatus()).lastRound, ROUNDS);

    // Projector: every round on the chart (round 0 plus five).
    await projector.waitForFunction((n) => Number(document.querySelector('[data-testid="metrics-chart"]')?.getAttribute('data-rounds')) === n, ROUNDS + 1, { timeout: 30_000 });
    await projector.getByTestId('present-status').filter({ hasText: /\S/ }).waitFor();
    await shot(projector, 'mnist-03-projector-finished');

    // Students: the contributions table lists both with 5 accepted updates each; the scale chart has every round.
    for (const page of [laptop, phone]) {
      await page.getByTestId('contributions').scrollIntoViewIfNeeded();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="contribution-row"]').length === 2 && document.querySelector('[data-testid="totals-accepted"]')?.textContent?.trim() === String(n), 2 * ROUNDS, { timeout: 30_000 });
      assert.ok((await chartRounds(page, 'scale-chart')) >= ROUNDS, 'the scale chart has every round');
      assert.equal(await chartRounds(page, 'metrics-chart'), ROUNDS + 1, 'the student sees every round too');
    }
    await shot(laptop, 'mnist-04-laptop-finished');
    await shot(phone, 'mnist-05-phone-finished');

    // Who trained: the two students only — the projector never does.
    const report = await fetch(`${server.url}/api/projects/${slug}/runs/${runId}/contributions`, { headers: { authorization: `Bearer ${ownerToken}` } });
    const body = (await report.json()) as { members: { name: string | null; accepted: number }[] };
    assert.deepEqual(body.members.map((m) => [m.name, m.accepted]).sort(), [['Ana', ROUNDS], ['Bo', ROUNDS]]);
  });
});

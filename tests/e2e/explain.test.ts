import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServerProcess, type ServerProcess } from '../helpers/process-server';
import { SHOTS, shot } from '../helpers/screenshots';
import { createShapedProject, participants, slowly } from '../helpers/clients';
import { api, waitFor } from '../helpers/server';
import { mkdirSync } from 'node:fs';
import { LAUNCH_ARGS } from '../helpers/browser';


/** Signs the page in as the owner (session cookie from the owner token) and opens the project. */
async function openAsOwner(page: Page, url: string, slug: string, token: string): Promise<void> {
  await page.goto(`${url}/icon.svg`);
  const status = await page.evaluate(
    async ([s, tk]) => (await fetch(`/api/projects/${s}/session`, { method: 'POST', headers: { authorization: `Bearer ${tk}`, 'content-type': 'application/json' }, body: '{}' })).status,
    [slug, token] as const,
  );
  assert.equal(status, 200);
  await page.goto(`${url}/p/${slug}`);
  await page.getByTestId('explain-panel').waitFor();
}

/** The server may close an idle keep-alive connection just as a POST reuses it: try once more. */
async function retrying<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (error) {
    if (!(error instanceof TypeError && /fetch failed/.test(error.message))) throw error;
    return f();
  }
}

const attr = (page: Page, testId: string, name: string) => page.getByTestId(testId).getAttribute(name);

describe('seeing the model learn in a real browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  const open: { close(): void }[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess();
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: LAUNCH_ARGS });
  });
  after(async () => {
    for (const x of open) x.close();
    await browser?.close();
    if (process.env.E2E_DUMP_LOG) console.error(server?.output());
    await server?.stop();
    server?.cleanup();
  });

  test('the spiral: the boundary and neuron maps render, answer under the pointer, and change after a round', { timeout: 240_000 }, async (ctx) => {
    const { slug, joinCode, ownerToken } = await createShapedProject(server.url, { rounds: 4, 'dataset.samples': 400 }, 'Explain');
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await openAsOwner(page, server.url, slug, ownerToken);
    // Before any run: the empty state, no layout jumps later (fixed-size boxes).
    await page.getByTestId('explain-panel').getByText(/Nothing to show yet/).waitFor();
    await shot(page, 'explain-01-empty');

    // Rounds of at least 2 s: the run must not be over before the page has drawn its first plane.
    for (const p of await retrying(() => participants(server.url, slug, joinCode, 2, 'bot', { wrap: slowly(2000) }))) open.push(p);
    const started = await retrying(() => api(server.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken));
    assert.equal(started.status, 202);
    const runId = started.body.runId as string;

    const boundary = page.getByTestId('decision-boundary');
    await waitFor(async () => (await boundary.getAttribute('data-model-key'))?.startsWith(`${runId}:`), 60_000, 'a first plane');
    await boundary.scrollIntoViewIfNeeded();
    const box = (await boundary.boundingBox())!;
    const firstKey = await boundary.getAttribute('data-model-key');
    const firstSum = await boundary.getAttribute('data-output-sum');
    // The colours are really painted: the heatmap canvas holds both orange-ish and blue-ish pixels over time; now at least non-white ones.
    const painted = await page.evaluate(() => {
      const canvas = document.querySelector('[data-testid="decision-boundary"] canvas') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! < 250 || data[i + 2]! < 250) coloured++;
      return { coloured, size: canvas.width };
    });
    assert.ok(painted.size >= 12 && painted.coloured > 0, JSON.stringify(painted));
    // One tile per hidden unit of the spiral network (12 + 8).
    await waitFor(async () => (await page.getByTestId('neuron-grid').locator('canvas').count()) === 20, 10_000, '20 neuron maps');

    // The model's answer under the pointer, computed in the page.
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.25);
    await waitFor(async () => /%/.test((await page.getByTestId('boundary-readout').textContent()) ?? ''), 5_000, 'a readout under the pointer');
    const readout = await page.getByTestId('boundary-readout').textContent();
    // And with the keyboard (the pointer gone first).
    await page.mouse.move(box.x - 40, box.y - 40);
    await boundary.focus();
    await page.keyboard.press('ArrowLeft');
    await waitFor(async () => /\(-0\.50, 0\.00\)/.test((await page.getByTestId('boundary-readout').textContent()) ?? ''), 5_000, 'a keyboard probe at (−0.5, 0)');

    // A later round brings a new global model and a different boundary.
    await waitFor(async () => {
      const key = await boundary.getAttribute('data-model-key');
      return key && key !== firstKey && Number(key.split(':')[1]) > Number(firstKey!.split(':')[1]) ? key : null;
    }, 90_000, `a plane of a later round than ${firstKey}`);
    const laterSum = await boundary.getAttribute('data-output-sum');
    assert.notEqual(laterSum, firstSum, 'the boundary changed after a round');
    await waitFor(async () => (await attr(page, 'run-status', 'data-status')) === 'finished', 120_000, 'the run to finish');
    // Training curves: the clients' accuracy is shown beside the held-out one.
    await waitFor(async () => /%/.test((await page.locator('[data-series="trainAccuracy"]').first().textContent()) ?? ''), 20_000, 'a training accuracy value');

    const timings = { evalMs: await attr(page, 'decision-boundary', 'data-eval-ms'), totalMs: await attr(page, 'decision-boundary', 'data-total-ms'), drawMs: await attr(page, 'decision-boundary', 'data-draw-ms'), res: await attr(page, 'decision-boundary', 'data-res') };
    ctx.diagnostic(`readout "${readout}"; plane timings ${JSON.stringify(timings)}`);
    await boundary.scrollIntoViewIfNeeded();
    const again = (await boundary.boundingBox())!;
    await page.mouse.move(again.x + again.width * 0.3, again.y + again.height * 0.6);
    await shot(page, 'explain-02-spiral-1280');
    await page.setViewportSize({ width: 390, height: 900 });
    await page.getByTestId('explain-panel').scrollIntoViewIfNeeded();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    await shot(page, 'explain-03-spiral-390');
    await page.close();
  });

  test('MNIST: confusion matrix, sample predictions and the draw pad answer', { timeout: 240_000 }, async (ctx) => {
    const created = await retrying(() => api(server.url, 'POST', '/api/projects', { name: 'Digits', template: 'mnist_mlp' }));
    assert.equal(created.status, 201);
    const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 1100 } })).newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await openAsOwner(page, server.url, slug, ownerToken);
    for (const p of await retrying(() => participants(server.url, slug, joinCode, 2, 'digit-bot'))) open.push(p);
    const started = await retrying(() => api(server.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken));
    assert.equal(started.status, 202);
    const runId = started.body.runId as string;

    await waitFor(async () => (await attr(page, 'digit-views', 'data-model-key'))?.startsWith(`${runId}:`), 90_000, 'held-out digits evaluated');
    const cells = await page.getByTestId('confusion-matrix').locator('td').evaluateAll((tds) => tds.map((td) => Number(td.textContent || 0)));
    assert.equal(cells.length, 100);
    const total = cells.reduce((a, b) => a + b, 0);
    assert.equal(total, 600, 'every held-out digit counted once (3,000 × 20%)');
    assert.equal(await page.getByTestId('sample-predictions').locator('li canvas').count(), 16);

    // Draw a "1": one vertical stroke.
    await waitFor(async () => (await page.getByTestId('try-answer').textContent())?.includes('Draw'), 10_000, 'the pad to be ready');
    await page.getByTestId('draw-pad').scrollIntoViewIfNeeded();
    const pad = (await page.getByTestId('draw-pad').boundingBox())!;
    await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * (0.15 + 0.07 * i));
    await page.mouse.up();
    await waitFor(async () => /\d/.test((await page.getByTestId('try-answer').textContent()) ?? ''), 10_000, 'an answer for the drawing');
    ctx.diagnostic(`drawn "1" read as: ${await page.getByTestId('try-answer').textContent()}; held-out eval ${await attr(page, 'digit-views', 'data-eval-ms')} ms`);
    await page.getByTestId('explain-panel').scrollIntoViewIfNeeded();
    await shot(page, 'explain-04-mnist-1280');
    await page.setViewportSize({ width: 390, height: 900 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    await page.getByTestId('confusion-matrix').scrollIntoViewIfNeeded();
    await shot(page, 'explain-05-mnist-390');
    await page.close();
  });
});

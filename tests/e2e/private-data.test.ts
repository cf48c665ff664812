import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { setScalar } from '../../server/protocol/spec-doc';
import { createShapedProject } from '../helpers/clients';
import { startServerProcess, type ServerProcess } from '../helpers/process-server';
import path from 'node:path';
import { SHOTS, shot } from '../helpers/screenshots';
import { api, waitFor } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';
import { LAUNCH_ARGS } from '../helpers/browser';


/** Clicks the point canvas at plane coordinates (x, y) in [−6, 6]². */
async function clickPlane(page: Page, x: number, y: number): Promise<void> {
  const box = (await page.getByTestId('point-canvas').boundingBox())!;
  await page.mouse.click(box.x + ((x + 6) / 12) * box.width, box.y + ((6 - y) / 12) * box.height);
}

async function count(page: Page): Promise<string> {
  return (await page.getByTestId('private-count').textContent())!.trim();
}

describe('private data in the browser', () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    server = await startServerProcess();
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: LAUNCH_ARGS });
  });
  after(async () => {
    await browser?.close();
    if (process.env.E2E_DUMP_LOG) console.error(server?.output());
    await server?.stop();
    server?.cleanup();
  });

  test('points clicked, typed and imported stay in this browser, train a round alone, and show in the histogram', { timeout: 240_000 }, async () => {
    const { slug, ownerToken } = await createShapedProject(server.url, { 'dataset.name': 'gauss', 'dataset.samples': 200, rounds: 2, localEpochs: 2 });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const session = await context.request.post(`${server.url}/api/projects/${slug}/session`, { headers: { authorization: `Bearer ${ownerToken}`, origin: server.url }, data: {} });
    assert.equal(session.status(), 200);
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.goto(`${server.url}/p/${slug}`);
    const panel = page.getByTestId('private-data');
    await panel.waitFor();
    // Let the page settle (worker ready, panels loaded) so the canvas stays where it was measured.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="training-client"][data-contribute="true"]').length === 1, null, { timeout: 60_000 });
    await page.getByTestId('point-canvas').scrollIntoViewIfNeeded();

    // Click: class 1 (preselected) at three spots, class 0 at two; then remove one by clicking it.
    for (const [x, y] of [[-2, -2], [-3, -1], [-1, -3]] as const) await clickPlane(page, x, y);
    await panel.getByText('Class 0', { exact: true }).click();
    for (const [x, y] of [[2, 2], [3, 1]] as const) await clickPlane(page, x, y);
    await waitFor(async () => (await count(page)).startsWith('5 points'), 5000, 'five points');
    await page.locator('[data-testid="point-canvas"] circle').first().click();
    await waitFor(async () => (await count(page)).startsWith('4 points'), 5000, 'a point removed');

    // Typed coordinates, with a refused one.
    await page.getByTestId('point-x').fill('9');
    await page.getByTestId('point-y').fill('1');
    await panel.getByRole('button', { name: 'Add point' }).click();
    await panel.getByText('x must be between −6 and 6.').waitFor();
    await page.getByTestId('point-x').fill('1.5');
    await page.getByTestId('point-y').press('Enter');
    await waitFor(async () => (await count(page)).startsWith('5 points'), 5000, 'a typed point');

    // A CSV file with a header, two good rows and two bad lines.
    await page.getByTestId('csv-input').setInputFiles({ name: 'points.csv', mimeType: 'text/csv', buffer: Buffer.from('x,y,label\n2.5,2.5,0\nfoo,1,1\n-2.5,-2,1\n1,2,7\n') });
    const errors = page.getByTestId('csv-errors');
    await errors.getByText('Line 3: x is not a number.').waitFor();
    await errors.getByText('Line 5: the label must be a whole number from 0 to 1.').waitFor();
    await shot(page, 'private-01-csv-review');
    await panel.getByRole('button', { name: 'Import the 2 good lines' }).click();
    await waitFor(async () => (await count(page)).startsWith('7 points'), 5000, 'imported points');

    // Saved in this browser: a reload keeps them.
    await page.reload();
    await waitFor(async () => (await count(page).catch(() => '')).startsWith('7 points'), 15_000, 'points after a reload');

    // Train on them alone.
    await panel.getByRole('radio', { name: /Only my private data/ }).check();
    await page.getByTestId('train-button').click();
    await page.getByTestId('histogram-caption').getByText(/(Round|Last round I trained,) \d+: 7 samples/).waitFor({ timeout: 60_000 });
    await shot(page, 'private-02-trained-1280');
    const runs = await api(server.url, 'GET', `/api/projects/${slug}`, undefined, ownerToken);
    const runId = runs.body.runs[0].id as string;
    const detail = await waitFor(async () => {
      const d = await api(server.url, 'GET', `/api/projects/${slug}/runs/${runId}`, undefined, ownerToken);
      return d.body.rounds?.length >= 1 ? d : null;
    }, 60_000, 'a finished round');
    assert.equal(detail.body.rounds[0].samples, 7, 'the round counted exactly the private samples');

    await page.setViewportSize({ width: 390, height: 844 });
    await panel.scrollIntoViewIfNeeded();
    const wide = await page.evaluate(() =>
      ['private-data', 'class-histogram'].flatMap((id) =>
        [...document.querySelectorAll(`[data-testid="${id}"], [data-testid="${id}"] *`)].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).map((e) => `${id}: ${e.tagName}`),
      ),
    );
    assert.deepEqual(wide, [], 'nothing of the private data panels is wider than a phone screen');
    await shot(page, 'private-03-phone');
    // Close-ups of the panels themselves (a record, never a failure).
    await panel.screenshot({ path: path.join(SHOTS, 'private-03-phone-panel.png') }).catch(() => undefined);
    await page.getByTestId('class-histogram').screenshot({ path: path.join(SHOTS, 'private-03-phone-histogram.png') }).catch(() => undefined);

    // MNIST: draw a digit, add it with its label.
    const editor = await connectDoc(server.url, slug, ownerToken);
    setScalar(editor.doc, 'dataset.name', 'mnist');
    await page.setViewportSize({ width: 1280, height: 900 });
    const pad = page.getByTestId('digit-pad');
    await pad.waitFor({ timeout: 30_000 });
    editor.close();
    await panel.locator('label').filter({ hasText: /^7$/ }).click();
    const box = (await pad.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.25);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.25, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.8, { steps: 8 });
    await page.mouse.up();
    await panel.getByTestId('add-digit').click();
    await waitFor(async () => (await count(page)).startsWith('1 digit'), 5000, 'a digit');
    await panel.getByRole('button', { name: 'Remove digit 7' }).waitFor();
    await shot(page, 'private-04-digits');
    await panel.screenshot({ path: path.join(SHOTS, 'private-04-digits-panel.png') }).catch(() => undefined);
    await context.close();
  });
});

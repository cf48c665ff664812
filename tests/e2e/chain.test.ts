import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServerProcess, type ServerProcess } from '../helpers/process-server';
import { SHOTS, shot } from '../helpers/screenshots';
import { LAUNCH_ARGS, explained } from '../helpers/browser';

/** Types a value into a spec field the way a person does: select all, type, leave the field. */
async function editField(page: Page, field: string, value: string): Promise<void> {
  const input = page.locator(`[data-field="${field}"]`);
  await input.click();
  await input.fill(value);
  await input.press('Tab');
}

describe('the whole chain in two real browsers', () => {
  let server: ServerProcess;
  let browser: Browser;
  let profileDir: string;
  let finished = false;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess();
    profileDir = mkdtempSync(path.join(tmpdir(), 'cotrain-chromium-'));
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: LAUNCH_ARGS });
  });

  after(async () => {
    await browser?.close();
    // The server's log, for diagnosing a failure (all of it with E2E_DUMP_LOG=1; its end when the test failed).
    if (process.env.E2E_DUMP_LOG) console.error(server?.output());
    else if (!finished) console.error(`server log, last lines:\n${server?.output().split('\n').slice(-40).join('\n')}`);
    await server?.stop();
    server?.cleanup();
    rmSync(profileDir, { recursive: true, force: true });
  });

  test('create, join, co-edit, train 5 rounds together (with a pause), and every checkpoint is saved', { timeout: 300_000 }, async () => {
    const owner = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const member = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    for (const page of [owner, member]) page.on('pageerror', (error) => console.error(`page error: ${error.message}`));

    // Owner creates a project from the landing page.
    await owner.goto(server.url);
    await shot(owner, '01-landing');
    await owner.locator('input[name="projectName"]').fill('E2E class');
    await owner.locator('input[name="displayName"]').fill('Teacher');
    await owner.locator('input[name="displayName"]').press('Enter');
    await owner.waitForURL(/\/p\/[\w-]+$/);
    const slug = new URL(owner.url()).pathname.split('/').pop()!;
    const joinCode = (await owner.getByTestId('join-code').textContent())!.trim();
    assert.match(joinCode, /^[A-Z2-9]{8}$/);

    // A member opens the shared link and joins with the code.
    await member.goto(`${server.url}/p/${slug}`);
    await member.locator('input[name="code"]').fill(joinCode);
    await member.locator('input[name="name"]').fill('Student');
    await member.locator('input[name="name"]').press('Enter');
    await member.locator('[data-field="learningRate"]').waitFor();

    // Both see each other online.
    for (const page of [owner, member]) {
      await page.getByTestId('online-list').getByText('Teacher').waitFor();
      await page.getByTestId('online-list').getByText('Student').waitFor();
    }

    // An edit in one browser shows in the other within a second.
    await editField(owner, 'learningRate', '0.05');
    const seenAt = Date.now();
    await member.waitForFunction(() => (document.querySelector('[data-field="learningRate"]') as HTMLInputElement | null)?.value === '0.05', null, { timeout: 1000 });
    assert.ok(Date.now() - seenAt <= 1000);
    // And back the other way: the member makes the run short.
    await editField(member, 'rounds', '5');
    await owner.waitForFunction(() => (document.querySelector('[data-field="rounds"]') as HTMLInputElement | null)?.value === '5', null, { timeout: 1000 });
    await editField(owner, 'dataset.samples', '400');
    await member.waitForFunction(() => (document.querySelector('[data-field="dataset.samples"]') as HTMLInputElement | null)?.value === '400', null, { timeout: 1000 });
    // More local epochs make each round last long enough to pause the run mid-way.
    await editField(owner, 'localEpochs', '8');
    await member.waitForFunction(() => (document.querySelector('[data-field="localEpochs"]') as HTMLInputElement | null)?.value === '8', null, { timeout: 1000 });
    await shot(owner, '02-owner-spec');
    await shot(member, '03-member-spec');

    // Both browsers are connected as training clients, and offer their compute (their workers
    // picked a backend), before the owner presses Train.
    for (const page of [owner, member]) await page.getByTestId('training-clients').getByText('Student').waitFor({ timeout: 30_000 });
    await owner.getByTestId('training-clients').getByText('Teacher').waitFor({ timeout: 30_000 });
    await explained(owner.waitForFunction(() => document.querySelectorAll('[data-testid="training-client"][data-contribute="true"]').length === 2, null, { timeout: 60_000 }), { owner, member });
    const train = owner.getByTestId('train-button');
    await train.click();

    // Pause as soon as the controls appear: small runs finish within seconds.
    const [paused] = await Promise.all([
      owner.waitForResponse((r) => r.url().endsWith('/pause') && r.request().method() === 'POST', { timeout: 15_000 }),
      owner.getByTestId('pause-button').click(),
    ]);
    assert.equal(paused.status(), 202, `pause answered ${paused.status()}: ${await paused.text()}`);
    for (const page of [owner, member]) {
      await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.getAttribute('data-status') === 'paused', null, { timeout: 15_000 });
    }
    assert.equal(await member.getByTestId('pause-button').count(), 0, 'members get no run controls');
    await shot(owner, '04b-paused');
    const [resumed] = await Promise.all([
      owner.waitForResponse((r) => r.url().endsWith('/resume') && r.request().method() === 'POST', { timeout: 15_000 }),
      owner.getByTestId('resume-button').click(),
    ]);
    assert.equal(resumed.status(), 202, `resume answered ${resumed.status()}: ${await resumed.text()}`);
    await owner.getByTestId('round-indicator').getByText(/Round [1-5] \/ 5/).waitFor({ timeout: 60_000 });
    await shot(owner, '04-training');
    for (const page of [owner, member]) {
      await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.getAttribute('data-status') === 'finished', null, { timeout: 240_000 });
    }
    await owner.getByTestId('round-indicator').getByText('Round 5 / 5').waitFor();
    await shot(owner, '05-owner-finished');
    await shot(member, '06-member-finished');

    // The model persisted: checkpoints for rounds 0–5, and held-out loss fell.
    const project = (await owner.evaluate(async (s) => (await fetch(`/api/projects/${s}`)).json(), slug)) as { runs: { id: string; status: string }[] };
    assert.equal(project.runs.length, 1);
    assert.equal(project.runs[0]!.status, 'finished');
    const run = (await owner.evaluate(async ([s, id]) => (await fetch(`/api/projects/${s}/runs/${id}`)).json(), [slug, project.runs[0]!.id] as const)) as {
      checkpoints: { round: number; metrics: { loss: number; participants: number } }[];
    };
    assert.deepEqual(run.checkpoints.map((c) => c.round), [0, 1, 2, 3, 4, 5]);
    const first = run.checkpoints[0]!.metrics.loss;
    const last = run.checkpoints[5]!.metrics.loss;
    assert.ok(last < first, `held-out loss should fall: ${first} → ${last}`);
    assert.ok(run.checkpoints.slice(1).every((c) => c.metrics.participants === 2), 'both browsers took part in every round');
    finished = true;
  });
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { NEW_LAYER } from '../../server/protocol/spec';
import { LAYERS_MAP, NOTES_TEXT, addLayer, readLayers } from '../../server/protocol/spec-doc';
import { startServerProcess, type ServerProcess } from '../helpers/process-server';
import { api, waitFor } from '../helpers/server';
import { SHOTS, shot } from '../helpers/screenshots';
import { connectDoc } from '../helpers/yjs';
import { LAUNCH_ARGS } from '../helpers/browser';

/** Screenshots land here (README says so). */


/** A layer as the list shows it (or the document holds it): values as the inputs read them. */
interface Row {
  id: string;
  type: string | null;
  units: string | null;
  activation: string | null;
}

/**
 * The layer rows of a page, top to bottom, read from the DOM. (A string: tsx would wrap a named
 * helper inside a function in `__name(…)`, which does not exist in the page.)
 */
function rowsOf(page: Page): Promise<Row[]> {
  return page.evaluate(`[...document.querySelectorAll('[data-testid="layer-row"]')].map((row) => {
    const id = row.getAttribute('data-layer-id') ?? '';
    const value = (field) => row.querySelector('[data-field="layers.' + id + '.' + field + '"]')?.value ?? null;
    return { id, type: value('type'), units: value('units'), activation: value('activation') };
  })`);
}

/** What a fresh Yjs client gets from the server: its layers in order, and the notes. */
async function serverState(url: string, slug: string, token: string): Promise<{ rows: Row[]; notes: string }> {
  const fresh = await connectDoc(url, slug, token);
  try {
    const rows = readLayers(fresh.doc).map((l) => {
      const values = l as unknown as Record<string, unknown>;
      const text = (key: string) => (values[key] === undefined ? null : String(values[key]));
      return { id: l.id, type: l.type, units: text('units'), activation: text('activation') };
    });
    return { rows, notes: fresh.doc.getText(NOTES_TEXT).toString() };
  } finally {
    fresh.close();
  }
}

const notesValue = (page: Page) => page.getByTestId('notes-editor').inputValue();

/** Waits until both pages and the server hold the expected layers (`check`) and agree exactly. */
async function layersAgree(pages: Page[], url: string, slug: string, token: string, check: (rows: Row[]) => boolean, what: string): Promise<Row[]> {
  let last = '';
  try {
    return await waitFor(
      async () => {
        const seen = await Promise.all(pages.map(rowsOf));
        last = JSON.stringify(seen);
        if (!seen.every((rows) => check(rows) && JSON.stringify(rows) === JSON.stringify(seen[0]))) return null;
        const server = await serverState(url, slug, token);
        last += ` server: ${JSON.stringify(server.rows)}`;
        return JSON.stringify(server.rows) === JSON.stringify(seen[0]) ? seen[0]! : null;
      },
      15_000,
      what,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${last}`);
  }
}

describe('co-editing in two real browsers', () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServerProcess();
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: LAUNCH_ARGS });
  });

  after(async () => {
    await browser?.close();
    if (process.env.E2E_DUMP_LOG) console.error(server?.output());
    await server?.stop();
    server?.cleanup();
  });

  test('concurrent layer edits converge, notes show live carets, undo reverts only your own edits', { timeout: 120_000 }, async () => {
    // A project over the API, with four known dense layers written by a Yjs client.
    const created = await api(server.url, 'POST', '/api/projects', { name: 'Co-edit', ownerName: 'Ada' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
    const joined = await api(server.url, 'POST', '/api/join', { code: joinCode, name: 'Bea' });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    const memberToken = joined.body.memberToken as string;

    const shaper = await connectDoc(server.url, slug, ownerToken);
    const ids: string[] = [];
    try {
      shaper.doc.transact(() => shaper.doc.getMap(LAYERS_MAP).clear());
      for (const units of [3, 4, 5, 6]) ids.push(addLayer(shaper.doc, { type: 'dense', units, activation: 'tanh' }));
    } finally {
      shaper.close();
    }
    const [L1, L2, L3, L4] = ids as [string, string, string, string];
    const dense = (id: string, units: number | string, activation = 'tanh'): Row => ({ id, type: 'dense', units: String(units), activation });
    const initial = [dense(L1, 3), dense(L2, 4), dense(L3, 5), dense(L4, 6)];
    await waitFor(async () => JSON.stringify((await serverState(server.url, slug, ownerToken)).rows) === JSON.stringify(initial), 10_000, 'the layers to reach the server');

    // The owner at desktop width, the member on a phone-sized window; each signed in by cookie.
    const open = async (token: string, viewport: { width: number; height: number }) => {
      const context = await browser.newContext({ viewport });
      await context.addCookies([{ name: `ct_${slug}`, value: encodeURIComponent(token), url: server.url }]);
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
      await page.goto(`${server.url}/p/${slug}`);
      return page;
    };
    const [ada, bea] = await Promise.all([open(ownerToken, { width: 1280, height: 900 }), open(memberToken, { width: 390, height: 844 })]);
    await layersAgree([ada, bea], server.url, slug, ownerToken, (rows) => JSON.stringify(rows) === JSON.stringify(initial), 'both browsers to show the four layers');
    for (const page of [ada, bea]) {
      await page.getByTestId('online-list').getByText('Ada').waitFor();
      await page.getByTestId('online-list').getByText('Bea').waitFor();
    }
    assert.equal(await ada.getByTestId('undo-button').isDisabled(), true, 'nothing to undo before any edit');
    assert.equal(await ada.getByTestId('redo-button').isDisabled(), true);

    // At the same time: Ada adds a layer and sets layer 1's units; Bea moves layer 2 up and removes layer 3.
    const row = (page: Page, id: string) => page.locator(`[data-testid="layer-row"][data-layer-id="${id}"]`);
    await Promise.all([
      (async () => {
        await ada.getByTestId('add-layer').click();
        const units = row(ada, L1).locator(`[data-field="layers.${L1}.units"]`);
        await units.fill('7');
        await units.press('Tab');
      })(),
      (async () => {
        await row(bea, L2).getByTestId('layer-up').click();
        await row(bea, L3).getByTestId('remove-layer').click();
      })(),
    ]);
    const known = new Set(ids);
    const merged = await layersAgree(
      [ada, bea],
      server.url,
      slug,
      ownerToken,
      (rows) =>
        rows.length === 4 &&
        JSON.stringify(rows.slice(0, 3)) === JSON.stringify([dense(L2, 4), dense(L1, 7), dense(L4, 6)]) &&
        !known.has(rows[3]!.id) &&
        JSON.stringify({ ...rows[3], id: '' }) === JSON.stringify(dense('', NEW_LAYER.dense.units, NEW_LAYER.dense.activation)),
      'both browsers and the server to agree on the merged layers',
    );
    const added = merged[3]!.id;
    await shot(ada, 'coedit-01-owner-layers-merged');
    await shot(bea, 'coedit-02-member-layers-merged');

    // Bea writes in the notes; Ada sees the text and Bea's named caret at its end.
    const adaNotes = ada.getByTestId('notes-editor');
    const beaNotes = bea.getByTestId('notes-editor');
    await beaNotes.click();
    await bea.keyboard.type('Hello from Bea');
    await ada.waitForFunction(() => (document.querySelector('[data-testid="notes-editor"]') as HTMLTextAreaElement).value === 'Hello from Bea', null, { timeout: 5000 });
    const caret = ada.locator('[data-testid="notes-cursor"][data-name="Bea"]');
    await caret.waitFor({ timeout: 5000 });
    assert.equal(await ada.locator('[data-testid="notes-cursor"]').count(), 1, 'only the other person’s caret is drawn');
    await adaNotes.scrollIntoViewIfNeeded();
    const area = (await adaNotes.boundingBox())!;
    const mark = (await caret.boundingBox())!;
    assert.ok(mark.y >= area.y && mark.y + mark.height <= area.y + area.height, `caret inside the notes vertically: ${JSON.stringify({ area, mark })}`);
    assert.ok(mark.x > area.x + 60 && mark.x < area.x + area.width, `caret after the typed text: ${JSON.stringify({ area, mark })}`);
    await ada.screenshot({ path: path.join(SHOTS, 'coedit-03-owner-sees-member-caret.png') });

    // Ada appends; then Bea inserts at the start while Ada's caret is at the end: Ada's caret stays at the end.
    await adaNotes.click();
    await adaNotes.press('Control+End');
    await ada.keyboard.type(' and Ada');
    await bea.waitForFunction(() => (document.querySelector('[data-testid="notes-editor"]') as HTMLTextAreaElement).value === 'Hello from Bea and Ada', null, { timeout: 5000 });
    await beaNotes.press('Control+Home');
    await bea.keyboard.type('Notes: ');
    await ada.waitForFunction(() => (document.querySelector('[data-testid="notes-editor"]') as HTMLTextAreaElement).value === 'Notes: Hello from Bea and Ada', null, { timeout: 5000 });
    assert.deepEqual(
      await adaNotes.evaluate((el: HTMLTextAreaElement) => [el.selectionStart, el.selectionEnd, el === document.activeElement]),
      ['Notes: Hello from Bea and Ada'.length, 'Notes: Hello from Bea and Ada'.length, true],
      'a remote insert before the caret moves it along',
    );
    await ada.keyboard.type('!');
    await bea.waitForFunction(() => (document.querySelector('[data-testid="notes-editor"]') as HTMLTextAreaElement).value === 'Notes: Hello from Bea and Ada!', null, { timeout: 5000 });
    await bea.locator('[data-testid="notes-cursor"][data-name="Ada"]').waitFor({ timeout: 5000 });
    await bea.screenshot({ path: path.join(SHOTS, 'coedit-04-member-notes-phone.png') });

    // Ctrl+Z in Ada's browser: her last edit goes ('!'), Bea's text stays.
    assert.equal(await ada.getByTestId('undo-button').isEnabled(), true);
    await ada.keyboard.press('Control+z');
    await waitFor(async () => !(await notesValue(ada)).includes('!'), 5000, 'the undo of "!"');
    assert.match(await notesValue(ada), /^Notes: Hello from Bea/, 'undo never takes back Bea’s text');
    // Undo everything Ada did: her notes and her layer edits go, Bea's move and removal stay.
    for (let i = 0; i < 10 && (await ada.getByTestId('undo-button').isEnabled()); i++) await ada.keyboard.press('Control+z');
    await waitFor(() => ada.getByTestId('undo-button').isDisabled(), 5000, 'Ada’s undo history to empty');
    await layersAgree(
      [ada, bea],
      server.url,
      slug,
      ownerToken,
      (rows) => JSON.stringify(rows) === JSON.stringify([dense(L2, 4), dense(L1, 3), dense(L4, 6)]),
      'Ada’s layer edits undone everywhere, Bea’s kept',
    );
    for (const page of [ada, bea]) await waitFor(async () => (await notesValue(page)) === 'Notes: Hello from Bea', 5000, 'the notes without Ada’s text');
    assert.equal((await serverState(server.url, slug, ownerToken)).notes, 'Notes: Hello from Bea');
    assert.equal(await bea.getByTestId('undo-button').isEnabled(), true, 'Bea keeps her own history');
    await shot(ada, 'coedit-05-owner-after-undo');

    // Redo brings all of Ada's edits back (Ctrl+Y, Ctrl+Shift+Z and the button all redo).
    await ada.keyboard.press('Control+y');
    await ada.keyboard.press('Control+Shift+z');
    for (let i = 0; i < 10 && (await ada.getByTestId('redo-button').isEnabled()); i++) await ada.getByTestId('redo-button').click();
    await layersAgree(
      [ada, bea],
      server.url,
      slug,
      ownerToken,
      (rows) => JSON.stringify(rows) === JSON.stringify([dense(L2, 4), dense(L1, 7), dense(L4, 6), dense(added, NEW_LAYER.dense.units, NEW_LAYER.dense.activation)]),
      'Ada’s edits redone everywhere',
    );
    for (const page of [ada, bea]) await waitFor(async () => (await notesValue(page)) === 'Notes: Hello from Bea and Ada!', 5000, 'the notes with Ada’s text again');
    assert.equal((await serverState(server.url, slug, ownerToken)).notes, 'Notes: Hello from Bea and Ada!');
  });
});

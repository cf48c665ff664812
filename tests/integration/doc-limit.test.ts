import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_DOC_BYTES } from '../../server/collab/room';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';

process.env.TEST_LOG_LEVEL ??= 'error';

/** Issue 6 §2: the shared document has a size limit; an edit past it is refused with a reason and stored nowhere. */
describe('the shared document size limit', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
  });

  test(`an edit that would grow the document past ${MAX_DOC_BYTES / 1024 / 1024} MB closes the connection with 1009 and a reason`, { timeout: 120_000 }, async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Big notes' });
    const { slug, ownerToken } = created.body as { slug: string; ownerToken: string };
    const editor = await connectDoc(t.url, slug, ownerToken);
    const closes: { code: number; reason: string }[] = [];
    editor.provider.on('connection-close', (event: { code: number; reason: string } | null) => event && closes.push({ code: event.code, reason: event.reason }));
    const chunk = 'x'.repeat(1_500_000); // under the 2 MB frame limit
    const notes = editor.doc.getText('notes');
    let inserted = 0;
    while (closes.length === 0 && inserted < 5) {
      notes.insert(notes.length, chunk);
      inserted += 1;
      await new Promise((r) => setTimeout(r, 500));
    }
    await waitFor(() => closes.length > 0, 20_000, 'the refusal');
    assert.equal(closes[0]!.code, 1009);
    assert.match(closes[0]!.reason, /document is full/);
    editor.close();

    // What the server kept is under the limit, and a fresh client can still open the project.
    const witness = await connectDoc(t.url, slug, ownerToken);
    const kept = witness.doc.getText('notes').length;
    assert.ok(kept < MAX_DOC_BYTES && kept >= chunk.length, `server kept ${kept} characters`);
    assert.equal(kept % chunk.length, 0, 'whole edits only');
    witness.close();
  });
});

import type { DenseLayer } from '../../server/protocol';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readSpec, setScalar, addLayer, readLayers } from '../../server/protocol/spec-doc';
import { api, tempDatabase, waitFor } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';

/** Starts the API/socket/Yjs server as a child process; resolves with its URL once it listens. */
function startChild(dbUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/api-server-main.ts'], {
    env: { ...process.env, DATABASE_URL: dbUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const match = /READY (\d+)/.exec(d.toString());
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, url, exited };
}

describe('edits survive a server crash', () => {
  test('an edit client B has seen is still there after the server is killed with SIGKILL', async () => {
    const { dbUrl } = await tempDatabase();
    const first = startChild(dbUrl);
    const url = await first.url;
    const created = await api(url, 'POST', '/api/projects', { name: 'Crash' });
    const { slug, joinCode, ownerToken } = created.body;
    const member = await api(url, 'POST', '/api/join', { code: joinCode, name: 'B' });
    const a = await connectDoc(url, slug, ownerToken);
    const b = await connectDoc(url, slug, member.body.memberToken);

    setScalar(a.doc, 'dataset.noise', 0.37);
    const layerId = addLayer(a.doc, { type: 'dense', units: 9, activation: 'sigmoid' });
    await waitFor(() => readSpec(b.doc).spec?.dataset.noise === 0.37 && readLayers(b.doc).some((l) => l.id === layerId), 2000, 'B to see the edit');

    // No graceful shutdown, no flush: the process dies the moment B has seen the edit.
    first.child.kill('SIGKILL');
    await first.exited;
    a.close();
    b.close();

    const second = startChild(dbUrl);
    try {
      const url2 = await second.url;
      const c = await connectDoc(url2, slug, member.body.memberToken);
      assert.equal(readSpec(c.doc).spec?.dataset.noise, 0.37);
      assert.equal((readLayers(c.doc).find((l) => l.id === layerId) as DenseLayer | undefined)?.units, 9);
      c.close();
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });
});

import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { api, waitFor } from './server';

/** A Node Yjs client of a project's document, authenticated with a fresh ticket. */
export async function connectDoc(url: string, slug: string, token: string): Promise<{ doc: Y.Doc; provider: WebsocketProvider; close(): void }> {
  const { status, body } = await api(url, 'POST', `/api/projects/${slug}/ticket`, {}, token);
  if (status !== 200) throw new Error(`ticket refused: ${status} ${JSON.stringify(body)}`);
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`${url.replace(/^http/, 'ws')}/yjs`, slug, doc, {
    params: { ticket: body.ticket },
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
  });
  await waitFor(() => provider.synced, 10_000, 'yjs sync');
  return {
    doc,
    provider,
    close() {
      provider.destroy();
      doc.destroy();
    },
  };
}

import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { api, waitFor } from './server';

/**
 * A Node Yjs client of a project's document, authenticated with a fresh ticket. `clientID` fixes
 * the Yjs client id (seeded tests); it must be set before the provider copies it into awareness.
 */
export async function connectDoc(
  url: string,
  slug: string,
  token: string,
  options: { clientID?: number } = {},
): Promise<{ doc: Y.Doc; provider: WebsocketProvider; close(): void }> {
  const { status, body } = await api(url, 'POST', `/api/projects/${slug}/ticket`, {}, token);
  if (status !== 200) throw new Error(`ticket refused: ${status} ${JSON.stringify(body)}`);
  const doc = new Y.Doc();
  if (options.clientID !== undefined) doc.clientID = options.clientID;
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

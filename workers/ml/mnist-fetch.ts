/**
 * Browser/Web Worker loader for the MNIST pack served at GET /data/mnist.bin (works in Node too,
 * with its global fetch). The HTTP cache reuses the download across page loads (max-age + ETag);
 * within a realm the promise is memoized per base URL.
 */
import { parseMnistPack, registerMnist, type MnistSet } from './mnist';

const pending = new Map<string, Promise<MnistSet>>();

/** Fetches `${baseUrl}/data/mnist.bin`, parses it, registers it (`registeredMnist()`) and returns it. */
export function fetchMnist(baseUrl = ''): Promise<MnistSet> {
  let promise = pending.get(baseUrl);
  if (!promise) {
    promise = (async () => {
      const url = `${baseUrl.replace(/\/$/, '')}/data/mnist.bin`;
      const res = await fetch(url);
      if (!res.ok) throw new Error(`MNIST: GET ${url} failed with HTTP ${res.status}`);
      const set = parseMnistPack(await res.arrayBuffer());
      registerMnist(set);
      return set;
    })();
    pending.set(baseUrl, promise);
    // A failed download may be retried by the next call.
    promise.catch(() => pending.delete(baseUrl));
  }
  return promise;
}

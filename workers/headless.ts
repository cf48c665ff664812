import { joinResponse, type Backend } from '../server/protocol';
import { TrainingClient, type TrainingClientOptions, type TrainResult, type TrainTask } from './client';

/** Joins a project over HTTP with its code and returns the member credentials. */
export async function joinProject(url: string, code: string, name: string): Promise<{ slug: string; token: string }> {
  const res = await fetch(new URL('/api/join', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name }),
  });
  const body = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const message = (body as { error?: { message?: string } } | null)?.error?.message ?? res.statusText;
    throw new Error(`Join failed (${res.status}): ${message}`);
  }
  const parsed = joinResponse.parse(body);
  return { slug: parsed.slug, token: parsed.memberToken };
}

/** A Node training participant that speaks exactly the browser's protocol. */
export function connectHeadless(options: {
  url: string;
  slug: string;
  token: string;
  backend: Backend;
  probeMs?: number;
  train: (task: TrainTask) => Promise<TrainResult>;
  /** socket.io options (e.g. a wrapped transport that records every frame, in tests). */
  ioOptions?: TrainingClientOptions['ioOptions'];
}): TrainingClient {
  return new TrainingClient({
    url: options.url,
    auth: async () => ({ slug: options.slug, token: options.token }),
    agent: 'headless',
    backend: options.backend,
    probeMs: options.probeMs ?? 0,
    contribute: true,
    train: options.train,
    ...(options.ioOptions ? { ioOptions: options.ioOptions } : {}),
  });
}

/** Runs async jobs one at a time: clients sharing one process share one TensorFlow.js engine. */
export function serialize<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return (...args: A) => {
    const result = tail.then(() => fn(...args));
    tail = result.catch(() => undefined);
    return result;
  };
}

import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a loopback port in front of a real server (PostgreSQL), so a test can cut the
 * link under a running process and restore it, without touching the shared server itself.
 *
 * - `cut('reset')`: every live connection is destroyed (the client sees a reset) and every new one
 *   is closed as soon as it is accepted: a server that went away.
 * - `cut('blackhole')`: live connections stay open but nothing is relayed either way, and new ones
 *   are accepted and left hanging: a network that drops packets (only timeouts notice).
 * - `restore()`: new connections are relayed again (connections cut or held stay dead).
 */
export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  url(target: string): string;
  cut(mode?: 'reset' | 'blackhole'): void;
  restore(): void;
  /** Connections accepted so far (relayed or refused). */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: 'open' | 'reset' | 'blackhole' = 'open';
  let accepted = 0;
  const live = new Set<Socket>();
  const held = new Set<Socket>();

  const server: Server = createServer((inbound) => {
    accepted++;
    inbound.on('error', () => undefined);
    if (mode === 'reset') return void inbound.resetAndDestroy();
    if (mode === 'blackhole') {
      held.add(inbound);
      inbound.on('close', () => held.delete(inbound));
      return;
    }
    const outbound = connect(targetPort, targetHost);
    outbound.on('error', () => inbound.destroy());
    inbound.on('error', () => outbound.destroy());
    for (const socket of [inbound, outbound]) {
      live.add(socket);
      socket.on('close', () => live.delete(socket));
    }
    // Relay by hand rather than pipe(), so a blackhole can stop the flow both ways at once.
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (mode === 'blackhole') return;
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => from.resume());
      from.on('end', () => to.end());
      from.on('close', () => to.destroy());
    };
    relay(inbound, outbound);
    relay(outbound, inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    url(target) {
      const parsed = new URL(target);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    cut(how = 'reset') {
      mode = how;
      if (how === 'reset') for (const socket of [...live]) socket.resetAndDestroy();
      // Bytes dropped mid-stream leave a connection useless: it is held until restore ends it.
      else for (const socket of live) held.add(socket);
    },
    restore() {
      mode = 'open';
      // Connections held by a blackhole are dead for good: their peers have timed out or will.
      for (const socket of [...held]) socket.destroy();
      held.clear();
    },
    get accepted() {
      return accepted;
    },
    async close() {
      for (const socket of [...live, ...held]) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

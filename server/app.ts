import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Server as SocketServer } from 'socket.io';
import { randomBytes } from 'node:crypto';
import { TicketStore, TokenSigner } from './auth';
import { CollabService } from './collab/collab';
import type { Repository } from './db/repository';
import { createApi } from './http/api';
import type { Logger } from './log';
import { ProjectService } from './projects';
import { MAX_PARAMS, YJS_CLOSE } from './protocol';
import { TrainingService } from './training/service';
import { closeModelThread } from './training/run-model';
import { serveVendor } from './vendor';
import { serveData } from './data/route';
import type { FailureLimiter } from './http/rate-limit';
import { DbHealth } from './db/db-health';
import { applySecurityHeaders, securityHeaders, securityOptionsFromEnv, type SecurityOptions } from './http/security';

/** Largest socket.io message: the largest model the spec allows, as float32, plus framing. */
export const MAX_SOCKET_MESSAGE = 4 * MAX_PARAMS + 64 * 1024;

/** What Next.js contributes when pages are served; absent in API-only tests. */
export interface PageRenderer {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
  /** Next's own upgrade listeners (dev HMR) receive `/_next/` upgrades through this emitter. */
  upgrades?: EventEmitter;
}

export interface ServerDeps {
  repo: Repository;
  log: Logger;
  pages?: PageRenderer | null;
  roundDeadlineMs?: number;
  /** Database outages: pending checkpoint cap, save retry backoff, shutdown wait (see persist-queue.ts). */
  storage?: { maxPendingCheckpoints?: number; saveRetry?: { initialMs: number; maxMs: number }; shutdownSaveWaitMs?: number };
  /** TRUST_PROXY, PUBLIC_URL, development CSP; read from the environment when absent. */
  security?: SecurityOptions;
  /** The failed-join limiter (tests inject one with a fake clock). */
  joinLimiter?: FailureLimiter;
}

export interface CotrainServer {
  http: Server;
  projects: ProjectService;
  training: TrainingService;
  collab: CollabService;
  /** Resumes interrupted runs, then listens. Resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/** The composition root: one HTTP server for pages, the JSON API, socket.io and Yjs. */
export function createServer(deps: ServerDeps): CotrainServer {
  const { log } = deps;
  // Every database call is watched: an outage is logged once and reported by /api/health.
  const dbHealth = new DbHealth(log);
  const repo = dbHealth.wrap(deps.repo);
  // Member tokens are signed with a key created once and kept in the database (see auth.ts).
  const signer = new TokenSigner(() => repo.serverSecret('member-token-key', randomBytes(32)));
  const projects = new ProjectService(repo, new TicketStore(), signer);
  const security = deps.security ?? securityOptionsFromEnv();
  const headers = securityHeaders(security.dev === true);
  const api = createApi({
    projects,
    repo,
    log,
    security,
    joinLimiter: deps.joinLimiter,
    health: async () => ({ db: await dbHealth.check(() => repo.ping(), 2000), pendingRounds: training.pendingRounds() }),
    training: {
      startRun: (p, options) => training.startRun(p, options),
      importModel: (p, body) => training.importModel(p, body),
      controlRun: (p, id, a) => training.controlRun(p, id, a),
      disconnectMember: async (projectId, memberId, why = 'revoked') => {
        const close = why === 'left' ? YJS_CLOSE.left : YJS_CLOSE.revoked;
        const message = why === 'left' ? 'You left this project.' : undefined;
        await Promise.all([training.disconnectMember(projectId, memberId, message), collab.disconnectMember(projectId, memberId, close)]);
      },
      closeProject: async (projectId) => {
        await training.closeProject(projectId);
        await collab.closeProject(projectId);
      },
    },
    classroom: {
      reset: (p) => training.reset(p),
      memberChanged: async (projectId, member, roleChanged) => {
        await Promise.all([training.memberChanged(projectId, member), collab.memberChanged(projectId, member.id, roleChanged)]);
      },
      specLockChanged: (projectId, locked) => collab.setSpecLocked(projectId, locked),
    },
  });

  const http = createHttpServer((req, res) => {
    // CSP and friends on every response: API, vendor/data files and Next pages alike.
    applySecurityHeaders(res, headers);
    void (async () => {
      if (await api(req, res)) return;
      if (await serveVendor(req, res)) return;
      if (await serveData(req, res)) return;
      if (deps.pages) return deps.pages.handle(req, res);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    })().catch((error: unknown) => {
      log.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500).end('Internal error');
    });
  });

  // Idle keep-alive sockets outlive the clients' own idle timeout (undici: 4 s, browsers: longer),
  // so a client never sends a request on a socket the server is closing (ECONNRESET).
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;

  const io = new SocketServer(http, {
    maxHttpBufferSize: MAX_SOCKET_MESSAGE,
    // Our own upgrade dispatcher below decides about every other path.
    destroyUpgrade: false,
    serveClient: false,
  });
  const collab = new CollabService(repo, projects, log);
  const training = new TrainingService({ io, repo, projects, collab, log, roundDeadlineMs: deps.roundDeadlineMs, ...deps.storage });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith('/socket.io/')) return; // engine.io's own listener takes it
    if (path.startsWith('/yjs/')) {
      void collab.handleUpgrade(req, socket, head).catch((error: unknown) => {
        log.error({ err: error }, 'yjs upgrade failed');
        socket.destroy();
      });
      return;
    }
    if (path.startsWith('/_next/') && deps.pages?.upgrades) {
      deps.pages.upgrades.emit('upgrade', req, socket, head);
      return;
    }
    socket.destroy();
  });

  return {
    http,
    projects,
    training,
    collab,
    async listen(port, host = '0.0.0.0') {
      const resumed = await training.resumeInterrupted(await repo.listProjects());
      if (resumed > 0) log.info({ resumed }, 'resumed interrupted runs');
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => resolve());
      });
      return (http.address() as AddressInfo).port;
    },
    async close() {
      await training.close();
      await closeModelThread();
      await collab.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      http.closeAllConnections?.();
    },
  };
}

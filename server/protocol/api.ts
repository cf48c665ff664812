import { z } from 'zod';
import { roleSchema } from './messages';
import { TEMPLATE_NAMES } from './templates';

/** HTTP API bodies (requests validated on the server, responses parsed by clients). */
export const createProjectRequest = z.object({
  name: z.string().trim().min(1, 'Give the project a name').max(80),
  /** Display name of the creator (the owner). */
  ownerName: z.string().trim().min(1).max(40).optional(),
  /** The spec the project starts from (default: spiral). */
  template: z.enum(TEMPLATE_NAMES).optional(),
});
export const createProjectResponse = z.object({ slug: z.string(), joinCode: z.string(), ownerToken: z.string() });

export const joinRequest = z.object({
  code: z.string().trim().min(4).max(16),
  name: z.string().trim().min(1, 'Enter a display name').max(40),
});
export const joinResponse = z.object({ slug: z.string(), memberToken: z.string(), role: roleSchema });

/** Train: `restart` first stops the active run (if any), then starts one with the current spec. */
export const trainRequest = z.object({ restart: z.boolean().optional() });
export const trainResponse = z.object({ runId: z.string() });

/** A short-lived credential for the Yjs websocket and the browser's socket.io handshake. */
export const ticketResponse = z.object({
  ticket: z.string(),
  expiresAt: z.number(),
  member: z.object({ id: z.string(), name: z.string(), role: roleSchema }),
});

export const projectSummary = z.object({
  slug: z.string(),
  name: z.string(),
  joinCode: z.string().nullable(),
  createdAt: z.string(),
});

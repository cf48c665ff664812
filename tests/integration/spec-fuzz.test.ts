import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import {
  FEATURES_MAP,
  LAYERS_MAP,
  NOTES_TEXT,
  SPEC_MAP,
  addLayer,
  moveLayer,
  readLayers,
  readSpec,
  removeLayer,
  setFeature,
  setLayerType,
  setScalar,
  updateLayer,
  type LayerFields,
} from '../../server/protocol/spec-doc';
import {
  DATASETS,
  DEFAULT_SPEC,
  FEATURES,
  IMAGE_DATASETS,
  IMAGE_LAYER_TYPES,
  LAYER_FIELDS,
  LAYER_TYPES,
  MAX_HIDDEN_LAYERS,
  MAX_PARAMS,
  MAX_UNITS,
  SCALAR_FIELDS,
  canonicalJson,
  countParams,
  type LayerType,
  type ScalarField,
} from '../../server/protocol/spec';
import { mulberry32 } from '../../workers/ml/random';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';

/**
 * Seeded fuzz of spec co-editing through the real server: three Yjs clients apply random edits
 * in "bursts". Within a burst every client edits its own replica synchronously, one client after
 * the other, with no await in between, so no client sees another's burst edits before making its
 * own: all edits of a burst are concurrent. Sometimes two clients move/delete/retype/update the
 * same layer in one burst, a client moves layers through one gap many times (moveLayer's
 * renumbering path), and a client goes offline for a few bursts and resyncs on reconnect (sync
 * step 2). After each burst the test waits until every connected replica and the server's room
 * hold the same operations (state vectors) and the same content (layers incl. ids and order keys,
 * scalars, features, notes), then checks the merged spec is valid.
 *
 * "Valid" is only promised where every edit was valid on its own replica and the merge cannot
 * combine valid values into an invalid whole. So the fuzz stays inside the part of the spec whose
 * limits are field by field, plus two count limits it budgets (below): point datasets without
 * extra rules (not 'sign', whose features are fixed, nor image datasets), point-compatible layer
 * types, and dense widths small enough that even MAX_HIDDEN_LAYERS of them fit MAX_PARAMS.
 * Cross-field rules (features vs. dataset, parameter budget, image layers) can be broken by two
 * valid concurrent edits by design; readSpec reports those as problems.
 *
 * A run is reproducible from its seed: client ids (which decide Yjs's concurrent-write winners)
 * and layer ids (which break order ties) are derived from the seed, so the edit choices of every
 * burst are the same on every run. A failing seed prints the burst and its edits; pin it below as
 * a named test.
 */

/** Seeds run by default; SPEC_FUZZ_SEEDS=FROM-TO runs others (e.g. to hunt for a failing seed). */
const SEEDS = seedRange(process.env.SPEC_FUZZ_SEEDS ?? '1-25');
const BURSTS = 10;
const CLIENTS = 3;
/** Generous: the convergence wait only ends early when every replica agrees. */
const CONVERGE_TIMEOUT_MS = 15_000;

/** Datasets whose spec has no rule beyond each field's own limits. */
const FREE_DATASETS = DATASETS.filter((d) => d !== 'sign' && !IMAGE_DATASETS.includes(d));
/** Layer types that work on point inputs. */
const POINT_LAYER_TYPES = LAYER_TYPES.filter((t) => !IMAGE_LAYER_TYPES.includes(t));
/** Widest dense layer such that MAX_HIDDEN_LAYERS of them on all features stay within MAX_PARAMS. */
const UNIT_CAP = (() => {
  const fits = (units: number) =>
    countParams({
      dataset: DEFAULT_SPEC.dataset,
      features: [...FEATURES],
      layers: Array.from({ length: MAX_HIDDEN_LAYERS }, (_, i) => ({ id: `w${i}`, type: 'dense' as const, units, activation: 'relu' as const })),
    }) <= MAX_PARAMS;
  let lo = 1;
  let hi = MAX_UNITS;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
})();

function seedRange(range: string): number[] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
  if (!match) throw new Error(`SPEC_FUZZ_SEEDS must look like 7 or 1-500, not ${range}`);
  const from = Number(match[1]);
  const to = Number(match[2] ?? match[1]);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

type Rng = () => number;
type Conn = Awaited<ReturnType<typeof connectDoc>>;
interface Client {
  name: string;
  conn: Conn;
  doc: Y.Doc;
  online: boolean;
  /** Burst at whose end an offline client reconnects. */
  offlineUntil: number;
}

/** Edit kinds the fuzz applied, over all seeds run (to check the fuzz covers what it claims). */
const coverage = new Map<string, number>();
const count = (kind: string, n = 1) => coverage.set(kind, (coverage.get(kind) ?? 0) + n);
let seedsCompleted = 0;

/** connectDoc with a chosen Yjs client id, so a seed replays exactly. */
const connectAs = (url: string, slug: string, token: string, clientID: number): Promise<Conn> => connectDoc(url, slug, token, { clientID });

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

type FieldLimits =
  | { kind: 'enum'; options: readonly string[] }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number; step: number };

/** A valid value for a field: a bound or a random in-range value on the field's step (ints as ints). */
function fieldValue(rng: Rng, field: FieldLimits): string | number {
  if (field.kind === 'enum') return pick(rng, field.options);
  const r = rng();
  if (r < 0.15) return field.min;
  if (r < 0.3) return field.max;
  if (field.kind === 'int') return int(rng, field.min, field.max);
  const steps = Math.floor((field.max - field.min) / field.step);
  return Math.min(field.max, Number((field.min + int(rng, 0, steps) * field.step).toPrecision(12)));
}

/** Privacy switches stay off: they constrain other fields (secure aggregation refuses median, int8 and more; DP refuses a zero noise multiplier), which random edits would keep tripping. */
const OFF_ONLY: readonly ScalarField[] = ['privacy.differentialPrivacy', 'privacy.secureAggregation'];

function scalarValue(rng: Rng, path: ScalarField): string | number {
  if (path === 'dataset.name') return pick(rng, FREE_DATASETS);
  const value = fieldValue(rng, SCALAR_FIELDS[path]); // drawn even when overridden: the edit stream stays the same
  return OFF_ONLY.includes(path) ? 'off' : value;
}

/** The editable fields of a layer type, dense widths capped at UNIT_CAP. */
function layerFields(type: LayerType): [string, FieldLimits][] {
  return Object.entries(LAYER_FIELDS[type] as Record<string, FieldLimits>).map(([key, limits]) => [
    key,
    type === 'dense' && key === 'units' && limits.kind === 'int' ? { ...limits, max: Math.min(limits.max, UNIT_CAP) } : limits,
  ]);
}

function randomLayer(rng: Rng): LayerFields {
  const type = pick(rng, POINT_LAYER_TYPES);
  return Object.fromEntries([['type', type], ...layerFields(type).map(([key, limits]) => [key, fieldValue(rng, limits)])]) as LayerFields;
}

/** addLayer with an id drawn from the seed (it uses Date.now and Math.random), so runs repeat exactly. */
function seededAddLayer(doc: Y.Doc, idRng: Rng, layer: LayerFields, afterId?: string): string {
  const { random } = Math;
  const { now } = Date;
  Math.random = idRng;
  Date.now = () => 0;
  try {
    return addLayer(doc, layer, afterId);
  } finally {
    Math.random = random;
    Date.now = now;
  }
}

/** moveLayer, counting the moves that renumbered every layer (more than one order key written). */
function countedMove(doc: Y.Doc, id: string, direction: -1 | 1): void {
  const before = new Map(readLayers(doc).map((l) => [l.id, l.order]));
  moveLayer(doc, id, direction);
  const changed = readLayers(doc).filter((l) => before.get(l.id) !== l.order).length;
  if (changed > 1) count('renumber');
}

const featuresOn = (doc: Y.Doc) => FEATURES.filter((f) => doc.getMap<boolean>(FEATURES_MAP).get(f) === true);

/** Everything a replica shows: layers in display order (ids, order keys), raw maps, notes. */
function contents(doc: Y.Doc) {
  return {
    layers: readLayers(doc),
    layerMaps: doc.getMap(LAYERS_MAP).toJSON(),
    scalars: doc.getMap(SPEC_MAP).toJSON(),
    features: doc.getMap(FEATURES_MAP).toJSON(),
    notes: doc.getText(NOTES_TEXT).toString(),
  };
}

/** Content plus the operations received (state vector), in a canonical string. */
function fingerprint(doc: Y.Doc): string {
  const sv = [...Y.decodeStateVector(Y.encodeStateVector(doc)).entries()].sort((a, b) => a[0] - b[0]);
  return canonicalJson({ sv, contents: contents(doc) });
}

/**
 * Waits until all replicas agree; if they never do, fails with the content difference. Then
 * checks the merged spec is valid.
 */
async function converge(replicas: { name: string; doc: Y.Doc }[], context: () => string): Promise<void> {
  try {
    await waitFor(
      () => {
        const first = fingerprint(replicas[0]!.doc);
        return replicas.every((r) => fingerprint(r.doc) === first);
      },
      CONVERGE_TIMEOUT_MS,
      'replicas to converge',
    );
  } catch (error) {
    const [first, ...rest] = replicas;
    for (const r of rest) {
      assert.deepEqual(contents(r.doc), contents(first!.doc), `${r.name} diverged from ${first!.name}\n${context()}`);
    }
    throw new Error(`replicas hold the same content but not the same operations\n${context()}`, { cause: error });
  }
  for (const r of replicas) {
    assert.deepEqual(readSpec(r.doc).problems, [], `merged spec is invalid on ${r.name}\n${context()}`);
  }
}

describe('seeded fuzz: three clients co-edit the spec concurrently through the real server', () => {
  let t: TestServer;
  const open = new Set<Conn>();

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    // Normally empty: each seed closes its clients; this is for a seed that failed midway.
    for (const conn of open) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    await t?.close();
  });

  /** A new project on the shared server, its room's document, and CLIENTS replicas with the given Yjs client ids. */
  async function openProject(name: string, clientIds: number[]) {
    const created = await api(t.url, 'POST', '/api/projects', { name });
    assert.equal(created.status, 201);
    const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
    const tokens = [ownerToken];
    for (let i = 1; i < clientIds.length; i++) {
      const joined = await api(t.url, 'POST', '/api/join', { code: joinCode, name: `Fuzzer ${i}` });
      assert.equal(joined.status, 200);
      tokens.push(joined.body.memberToken as string);
    }
    const project = await t.repo.findProjectBySlug(slug);
    assert.ok(project);
    const server = { name: 'server', doc: (await t.server.collab.room(project.id)).doc };
    const conns: Conn[] = [];
    const clients: Client[] = [];
    const close = () => {
      for (const conn of conns) {
        conn.close();
        open.delete(conn);
      }
    };
    try {
      for (const [i, id] of clientIds.entries()) {
        const conn = await connectAs(t.url, slug, tokens[i]!, id);
        open.add(conn);
        conns.push(conn);
        clients.push({ name: `client ${String.fromCharCode(65 + i)}`, conn, doc: conn.doc, online: true, offlineUntil: -1 });
      }
    } catch (error) {
      close();
      throw error;
    }
    const connectFresh = async () => {
      const conn = await connectDoc(t.url, slug, ownerToken);
      open.add(conn);
      conns.push(conn);
      return { name: 'fresh client', doc: conn.doc };
    };
    return { projectId: project.id, server, clients, connectFresh, close };
  }

  async function runSeed(seed: number): Promise<void> {
    const rng = mulberry32(seed);
    const idRng = mulberry32((seed * 0x9e3779b1) >>> 0);
    // Fixed client ids decide concurrent-write winners the same way on every run.
    const { projectId, server, clients, connectFresh, close } = await openProject(
      `Fuzz ${seed}`,
      Array.from({ length: CLIENTS }, (_, i) => seed * 16 + i + 1),
    );
    try {
      let burst = 0;
      let log: string[] = [];
      // The edits since every replica last agreed (an offline client's span several bursts).
      const context = () =>
        `seed ${seed}, burst ${burst}; edits since the replicas last agreed:\n  ${log.join('\n  ')}\n` +
        `merged layers on the server: ${JSON.stringify(readLayers(server.doc))}`;

      // Edits whose merge could break the spec's bounds are budgeted from the last point where
      // every replica agreed: concurrent adds could exceed MAX_HIDDEN_LAYERS, concurrent
      // feature removals could leave none. Each client also keeps ≥ 1 feature on locally.
      let addBudget = 0;
      let offBudget = 0;
      const resetBudgets = () => {
        addBudget = MAX_HIDDEN_LAYERS - readLayers(server.doc).length;
        offBudget = featuresOn(server.doc).length - 1;
      };
      resetBudgets();

      const edit = (c: Client, what: string) => log.push(`${c.name}: ${what}`);

      const editLayer = (c: Client, id: string, contested: boolean) => {
        const layer = readLayers(c.doc).find((l) => l.id === id);
        if (!layer) return;
        const r = rng();
        const tag = contested ? ' (contested)' : '';
        const kind = (k: string) => count(contested ? `contested ${k}` : k);
        if (r < 0.22) {
          countedMove(c.doc, id, -1);
          edit(c, `move ${id} up${tag}`);
          kind('move');
        } else if (r < 0.44) {
          countedMove(c.doc, id, 1);
          edit(c, `move ${id} down${tag}`);
          kind('move');
        } else if (r < 0.6) {
          if (readLayers(c.doc).length > 1) {
            removeLayer(c.doc, id);
            edit(c, `remove ${id}${tag}`);
            kind('remove');
          }
        } else if (r < 0.8) {
          const type = pick(rng, POINT_LAYER_TYPES.filter((t) => t !== layer.type));
          setLayerType(c.doc, id, type);
          edit(c, `retype ${id} ${layer.type} -> ${type}${tag}`);
          kind('retype');
        } else {
          const fields = layerFields(layer.type);
          if (fields.length === 0) return;
          const chosen = fields.filter(() => rng() < 0.6);
          const patch = Object.fromEntries((chosen.length > 0 ? chosen : [pick(rng, fields)]).map(([key, limits]) => [key, fieldValue(rng, limits)]));
          updateLayer(c.doc, id, patch);
          edit(c, `update ${layer.type} ${id} ${JSON.stringify(patch)}${tag}`);
          kind('update');
        }
      };

      const randomEdit = (c: Client, offThisBurst: Set<Client>) => {
        const doc = c.doc;
        const layers = readLayers(doc);
        const r = rng();
        if (r < 0.22) {
          const path = pick(rng, Object.keys(SCALAR_FIELDS) as ScalarField[]);
          const value = scalarValue(rng, path);
          setScalar(doc, path, value);
          edit(c, `set ${path} = ${JSON.stringify(value)}`);
          count('scalar');
        } else if (r < 0.34) {
          const on = featuresOn(doc);
          const off = FEATURES.filter((f) => !on.includes(f));
          if (off.length > 0 && (rng() < 0.5 || on.length <= 1 || offBudget === 0 || offThisBurst.has(c))) {
            const f = pick(rng, off);
            setFeature(doc, f, true);
            edit(c, `feature ${f} on`);
            count('feature on');
          } else if (on.length > 1 && offBudget > 0 && !offThisBurst.has(c)) {
            const f = pick(rng, on);
            setFeature(doc, f, false);
            offBudget--;
            offThisBurst.add(c);
            edit(c, `feature ${f} off`);
            count('feature off');
          }
        } else if (r < 0.46) {
          if (addBudget > 0) {
            const afterId = layers.length > 0 && rng() < 0.4 ? pick(rng, layers).id : undefined;
            const layer = randomLayer(rng);
            const id = seededAddLayer(doc, idRng, layer, afterId);
            addBudget--;
            edit(c, `add ${id} ${JSON.stringify(layer)}${afterId ? ` after ${afterId}` : ''}`);
            count('add');
          }
        } else if (r < 0.74) {
          if (layers.length > 0) editLayer(c, pick(rng, layers).id, false);
        } else if (r < 0.8) {
          // Repeated moves through one gap: each halves it until moveLayer renumbers.
          if (layers.length >= 3) {
            const down = rng() < 0.5;
            const at = down ? int(rng, 0, layers.length - 3) : int(rng, 2, layers.length - 1);
            const times = int(rng, 18, 28);
            for (let i = 0; i < times; i++) countedMove(doc, readLayers(doc)[at]!.id, down ? 1 : -1);
            edit(c, `churn: move layer #${at} ${down ? 'down' : 'up'} ${times} times`);
            count('churn');
          }
        } else {
          const notes = doc.getText(NOTES_TEXT);
          if (notes.length > 0 && rng() < 0.4) {
            const at = int(rng, 0, notes.length - 1);
            const length = int(rng, 1, Math.min(12, notes.length - at));
            notes.delete(at, length);
            edit(c, `notes delete ${at}+${length}`);
            count('notes delete');
          } else {
            const at = int(rng, 0, notes.length);
            const text = Array.from({ length: int(rng, 1, 8) }, () => pick(rng, 'abcdefghij é—\n'.split(''))).join('');
            notes.insert(at, text);
            edit(c, `notes insert ${at} ${JSON.stringify(text)}`);
            count('notes insert');
          }
        }
      };

      for (burst = 0; burst < BURSTS; burst++) {
        log.push(`-- burst ${burst}`);
        // Sometimes one client goes offline for a few bursts and keeps editing.
        if (clients.every((c) => c.online) && rng() < 0.2) {
          const c = pick(rng, clients);
          c.conn.provider.disconnect();
          c.online = false;
          c.offlineUntil = Math.min(BURSTS - 1, burst + int(rng, 0, 2));
          edit(c, `goes offline until the end of burst ${c.offlineUntil}`);
          count('offline');
        }

        // Two clients act on one layer in the same burst (concurrent move/move, move/remove, remove/remove…).
        const shared = readLayers(server.doc);
        const contested = shared.length >= 2 && rng() < 0.4 ? pick(rng, shared).id : null;
        const contenders = new Set<Client>();
        if (contested) {
          const first = int(rng, 0, CLIENTS - 1);
          contenders.add(clients[first]!).add(clients[(first + int(rng, 1, CLIENTS - 1)) % CLIENTS]!);
        }

        const offThisBurst = new Set<Client>();
        for (const c of clients) {
          if (contested && contenders.has(c) && readLayers(c.doc).some((l) => l.id === contested)) editLayer(c, contested, true);
          const edits = int(rng, 1, 5);
          for (let i = 0; i < edits; i++) randomEdit(c, offThisBurst);
        }

        for (const c of clients) {
          if (!c.online && c.offlineUntil <= burst) {
            c.conn.provider.connect();
            c.online = true;
            edit(c, 'reconnects');
          }
        }
        const online = clients.filter((c) => c.online);
        await converge([server, ...online], context);
        if (online.length === CLIENTS) {
          resetBudgets();
          log = [];
        }
      }

      // Everything reached the server: a fresh client and the database's update log both rebuild the same document.
      const fresh = await connectFresh();
      await converge([server, ...clients, fresh], () => `seed ${seed}, after the last burst`);
      const stored = await t.repo.loadDoc(projectId);
      const replay = new Y.Doc();
      if (stored.state) Y.applyUpdate(replay, stored.state);
      for (const { update } of stored.updates) Y.applyUpdate(replay, update);
      assert.deepEqual(contents(replay), contents(server.doc), `seed ${seed}: the stored update log replays to a different document`);
      replay.destroy();
    } finally {
      close();
    }
  }

  for (const seed of SEEDS) {
    test(`seed ${seed}`, async () => {
      await runSeed(seed);
      seedsCompleted++;
    });
  }

  // Seeds the fuzz found failing, pinned. Both failed the same way (see the scenario test below):
  // setLayerType kept a field the new type shares without writing it again, so a concurrent retype
  // of the same layer to a type without that field deleted it, and the kept-for type could win the
  // merge with the field missing. setLayerType now writes every field of the new type.
  test('seed 53: an offline retype to dropout wins over a retype to dense, and the dropout has no rate', () => runSeed(53));
  test('seed 202: concurrent retypes of one layer to dense and to flatten leave a dense layer without units or activation', () =>
    runSeed(202),
  );

  test('concurrent retypes of one layer: whichever type wins has all its fields', async () => {
    const { server, clients, close } = await openProject('Retype race', [101, 102, 103]);
    const [a, b] = clients as [Client, Client, Client];
    const context = () => `merged layers on the server: ${JSON.stringify(readLayers(server.doc))}`;
    try {
      // Concurrently: A makes both default dense layers dropout while B sets their activation, so
      // each becomes a dropout layer that still holds an activation.
      for (const id of ['l1', 'l2']) {
        setLayerType(a.doc, id, 'dropout');
        updateLayer(b.doc, id, { activation: 'sigmoid' });
      }
      await converge([server, ...clients], context);
      assert.deepEqual(
        readLayers(server.doc).map((l) => ({ id: l.id, type: l.type, activation: 'activation' in l ? l.activation : undefined })),
        [
          { id: 'l1', type: 'dropout', activation: 'sigmoid' },
          { id: 'l2', type: 'dropout', activation: 'sigmoid' },
        ],
      );
      // Concurrently, on each layer one client retypes to dense (keeping that activation) and the
      // other to flatten (deleting it), crosswise so that dense wins on one of the two layers
      // whichever client's write wins.
      setLayerType(a.doc, 'l1', 'dense');
      setLayerType(b.doc, 'l1', 'flatten');
      setLayerType(a.doc, 'l2', 'flatten');
      setLayerType(b.doc, 'l2', 'dense');
      await converge([server, ...clients], context);
      assert.ok(readLayers(server.doc).some((l) => l.type === 'dense'));
    } finally {
      close();
    }
  });

  test('the fuzz exercised every kind of edit it claims to', (ctx) => {
    if (seedsCompleted < SEEDS.length) return ctx.skip('runs only after every seed passed');
    ctx.diagnostic(JSON.stringify(Object.fromEntries([...coverage].sort())));
    for (const kind of [
      'scalar',
      'feature on',
      'feature off',
      'add',
      'remove',
      'update',
      'retype',
      'move',
      'contested move',
      'contested remove',
      'contested update',
      'contested retype',
      'churn',
      'renumber',
      'notes insert',
      'notes delete',
      'offline',
    ]) {
      assert.ok((coverage.get(kind) ?? 0) > 0, `no "${kind}" edit in ${SEEDS.length} seeds`);
    }
  });
});

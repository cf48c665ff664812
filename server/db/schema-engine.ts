/**
 * Prisma's migration engine, compiled to WASM, loaded by hand. The `prisma` CLI wants to download
 * a native schema engine, which cannot happen offline; `@prisma/schema-engine-wasm` is the same
 * engine and needs no download, but it is packaged for bundlers (it imports a `.wasm` file), so
 * Node has to instantiate it itself. See /work/shared/notes/toolchain.md, "Prisma 7".
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationList, SchemaContainer } from '@prisma/schema-engine-wasm/schema_engine_bg';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';

export type SchemaEngine = bg.SchemaEngine;
export type { MigrationList, SchemaContainer };

/** Tables and enums the engine must leave alone: none. */
export const NO_FILTERS = { externalTables: [], externalEnums: [] };

let loaded: Promise<void> | null = null;
let running = 0;
/**
 * Timers the engine started. It arms 10 s timeouts (e.g. around its queries) and never clears
 * them, which kept scripts alive for 10 s after their work was done; they are cleared once no
 * engine is running.
 */
const engineTimers = new Set<NodeJS.Timeout>();

/** The bindings as WASM imports, with the engine's setTimeout tracked in engineTimers. */
function wasmImports(): WebAssembly.ModuleImports {
  const imports: WebAssembly.ModuleImports = { ...(bg as unknown as WebAssembly.ModuleImports) };
  for (const name of Object.keys(imports).filter((key) => key.startsWith('__wbg_setTimeout_'))) {
    imports[name] = (callback: () => void, ms: number) => {
      const timer = setTimeout(() => {
        engineTimers.delete(timer);
        callback();
      }, ms >>> 0);
      engineTimers.add(timer);
      return timer;
    };
  }
  return imports;
}

/** Instantiates the WASM module once per process (the bindings keep it in a module global). */
function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    const wasmPath = fileURLToPath(new URL('./schema_engine_bg.wasm', import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg')));
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': wasmImports() });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return loaded;
}

/**
 * Runs `task` with a schema engine over `factory`, then frees the engine and closes every
 * connection it opened (the engine itself never closes them, and an open pg pool would keep the
 * process alive).
 */
export async function withSchemaEngine<T>(
  schema: SchemaContainer,
  factory: SqlMigrationAwareDriverAdapterFactory,
  task: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  await loadWasm();
  const opened: SqlDriverAdapter[] = [];
  const track = async (connect: Promise<SqlDriverAdapter>): Promise<SqlDriverAdapter> => {
    const adapter = await connect;
    opened.push(adapter);
    return adapter;
  };
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: () => track(factory.connect()),
    connectToShadowDb: () => track(factory.connectToShadowDb()),
  };
  const log = (line: string): void => {
    if (process.env.DEBUG_SCHEMA_ENGINE) console.error('[schema-engine]', line);
  };
  running += 1;
  try {
    const engine = await bg.SchemaEngine.new({ datamodels: [[schema.path, schema.content]] }, log, bindMigrationAwareSqlAdapterFactory(tracked));
    try {
      return await task(engine);
    } finally {
      engine.free();
    }
  } finally {
    await Promise.all(opened.map((adapter) => adapter.dispose()));
    running -= 1;
    if (running === 0) {
      for (const timer of engineTimers) clearTimeout(timer);
      engineTimers.clear();
    }
  }
}

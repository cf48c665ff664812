/**
 * Compiles a small WebAssembly SIMD module shipped as base64; null where wasm or SIMD is missing,
 * so callers fall back to plain loops. Sync compile is fine: browsers allow it for modules under
 * 4 KiB, and these are under 1 KiB.
 */
export function compileSimdModule(base64: string): WebAssembly.Module | null {
  try {
    if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null;
  }
}

/** Bytes in a wasm memory page. */
export const WASM_PAGE = 65536;

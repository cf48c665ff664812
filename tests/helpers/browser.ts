import type { Page } from 'playwright-core';

/**
 * Chromium flags for every browser test: no sandbox (containers), no background traffic, and
 * WebGL through SwiftShader so training has a GPU backend on machines without one.
 */
export const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/**
 * Runs a browser wait and, if it fails, rethrows with what each page shows of its compute and
 * connection (the compute state, the training clients list), so a CI failure says why.
 */
export async function explained<T>(wait: Promise<T>, pages: Record<string, Page>): Promise<T> {
  try {
    return await wait;
  } catch (error) {
    const seen: string[] = [];
    for (const [name, page] of Object.entries(pages)) {
      const text = (testId: string) =>
        page
          .getByTestId(testId)
          .first()
          .innerText({ timeout: 2000 })
          .then((s) => s.replace(/\s+/g, ' ').trim(), () => '(not shown)');
      seen.push(`${name}: compute "${await text('compute-state')}"; clients "${await text('training-clients')}"; training link "${await text('training-status')}"`);
    }
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${seen.join('\n')}`, { cause: error });
  }
}

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

/** Where the e2e tests leave their screenshots. */
export const SHOTS = path.resolve('test-results', 'e2e');

/**
 * Saves a full-page screenshot as evidence. Chromium under software rendering now and then
 * answers "Unable to capture screenshot" on a loaded machine: retry, then fall back to the
 * viewport. A screenshot is a record, not an assertion, so a last failure is logged, not thrown.
 */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  for (const fullPage of [true, true, false]) {
    try {
      await page.screenshot({ path: file, fullPage });
      return;
    } catch (error) {
      await page.waitForTimeout(300);
      if (!fullPage) console.warn(`screenshot ${name} not saved: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
}

// Headless Chromium for the report tests: Debian's `chromium` package driven by
// playwright-core. CI installs it (apt-get install -y chromium); a missing browser is a
// failure with instructions, not a skip.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.IMSTORM_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The network is closed here: without these flags Chromium keeps trying to reach Google
 * services and floods the log with refused connections.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The report.html test needs Debian's chromium package: ` +
        `run 'apt-get update && apt-get install -y chromium' (CI's .ci/run installs it), ` +
        `or point IMSTORM_CHROMIUM at a Chromium binary.`,
    );
  }
  // A fresh profile per launch (playwright takes it as launchPersistentContext's first argument).
  const profile = mkdtempSync(path.join(os.tmpdir(), 'imstorm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

import { existsSync } from 'node:fs'
import { defineConfig } from '@playwright/test'
import type { GatewayOptions } from './tests/browser/fixtures'

// Every spec runs against both Cockpit APIs: one built server per version, each with its own emulator
// and its test-only control endpoint (tests/support/serve-gateway.ts). The build under test is
// `DEMO_OUTPUT_DIR` when set, else the repo's `.output` (what `npm test` builds first).
// Fixed ports (baseURL must be known here), moved as a block with BROWSER_TEST_PORT_BASE when taken.
const PORT_BASE = Number(process.env.BROWSER_TEST_PORT_BASE ?? 4300)
const COCKPIT_VERSIONS = [2, 1].map(version => ({ version, port: PORT_BASE + version, controlPort: PORT_BASE + 10 + version }))

// Debian's Chromium where there is one (CI, containers); elsewhere `npx playwright install chromium`.
const SYSTEM_CHROMIUM = '/usr/bin/chromium'

export default defineConfig<GatewayOptions>({
  testDir: 'tests/browser',
  // Regenerates docs/screenshot.png only when asked (see that spec).
  testIgnore: process.env.UPDATE_DOCS_SCREENSHOT ? [] : ['**/docs-screenshot.spec.ts'],
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      ...(existsSync(SYSTEM_CHROMIUM) ? { executablePath: SYSTEM_CHROMIUM } : {}),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  projects: COCKPIT_VERSIONS.map(({ version, port, controlPort }) => ({
    name: `cockpit-v${version}`,
    use: {
      browserName: 'chromium' as const,
      baseURL: `http://127.0.0.1:${port}`,
      controlURL: `http://127.0.0.1:${controlPort}`,
    },
  })),
  webServer: COCKPIT_VERSIONS.map(({ version, port, controlPort }) => ({
    name: `cockpit-v${version}`,
    command: `node --import tsx tests/support/serve-gateway.ts --version ${version} --port ${port} --control-port ${controlPort}`,
    // Answers once the emulator and both gateways are up.
    url: `http://127.0.0.1:${controlPort}/info`,
    reuseExistingServer: false,
    timeout: 60_000,
    gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 5_000 },
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
  })),
})

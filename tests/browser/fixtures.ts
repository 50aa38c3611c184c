import { test as base, expect } from '@playwright/test'
import type { Page, Response } from '@playwright/test'
import { SEED_V1, SEED_V2 } from '../../emulator/index'
import { EMULATOR_KEYS } from '../../scripts/embedded-cockpit'
import { TEST_SESSION_PASSWORD } from '../support/gateway-server'

/** Per-project options (set in playwright.config.ts). */
export interface GatewayOptions {
  /** The test-only control endpoint of tests/support/serve-gateway.ts for this project's Cockpit. */
  controlURL: string
}

/** A request as it reached the Cockpit emulator (headers left out on purpose). */
export interface CockpitRequest {
  method: string
  path: string
  search: string
  at: number
}

/** The test-only control endpoint: what reached Cockpit, and the other gateway instance. */
export interface GatewayControl {
  /** The gateway whose per-username login limit is 3 (same emulator, same build). */
  strictURL: () => Promise<string>
  /** Every request the emulator received since the last {@link GatewayControl.clearRequests}. */
  requests: () => Promise<CockpitRequest[]>
  clearRequests: () => Promise<void>
  /** Everything both gateway processes printed. */
  logs: () => Promise<string[]>
  /** Contact messages as stored in the emulator (`{ name, email, message }`), read with its full key. */
  messages: () => Promise<{ name: string, email: string, message: string }[]>
}

/** One response the browser received, as scanned for secrets. */
export interface RecordedResponse {
  url: string
  status: number
  headers: Record<string, string>
  /** The body of text, JSON, JS, HTML and CSS responses; `''` otherwise. */
  body: string
  /** False when only the parsed headers were available (no `Set-Cookie`). */
  rawHeaders: boolean
}

/** Whether a request to Cockpit was a write (v2 `POST`/`DELETE /api/content/item/…`, v1 `/api/collections/save|remove/…`). */
export function isCockpitWrite(request: CockpitRequest): boolean {
  return ['POST', 'PUT', 'PATCH', 'DELETE'].includes(request.method) && /^\/api\/content\/item\/|^\/api\/collections\/(save|remove)\//.test(request.path)
}

// No Cockpit key the emulator knows (configured or not) and no session password may reach a browser.
const SECRETS = [...new Set([
  ...Object.values(EMULATOR_KEYS[2]),
  ...Object.values(EMULATOR_KEYS[1]),
  ...Object.values(SEED_V2.keys),
  ...Object.values(SEED_V1.keys),
  TEST_SESSION_PASSWORD,
])].filter(Boolean)

const TEXTUAL = /^(text\/|application\/(json|javascript|x-javascript|xml|manifest\+json|ld\+json)|image\/svg)/i

async function recordResponse(response: Response): Promise<RecordedResponse> {
  // The raw headers (Set-Cookie included) can be unavailable when a request is cut short (e.g. by the next
  // navigation); the parsed ones are always there.
  let rawHeaders = true
  const headers = await response.allHeaders().catch(() => {
    rawHeaders = false
    return response.headers()
  })
  let body = ''
  // Redirects have no body to read; anything else textual is read in full.
  if (TEXTUAL.test(headers['content-type'] ?? '') && (response.status() < 300 || response.status() >= 400)) {
    body = await response.text().catch(() => '')
  }
  return { url: response.url(), status: response.status(), headers, body, rawHeaders }
}

/** Where each secret shows up (its first 8 characters only, so the report does not leak it either). */
function findSecrets(responses: RecordedResponse[], logs: string[]): string[] {
  const found: string[] = []
  for (const secret of SECRETS) {
    const label = `${secret.slice(0, 8)}…`
    for (const r of responses) {
      const where = [r.url.includes(secret) && 'url', Object.values(r.headers).some(v => v.includes(secret)) && 'headers', r.body.includes(secret) && 'body'].filter(Boolean)
      if (where.length) found.push(`${label} in ${where.join('+')} of ${r.status} ${r.url}`)
    }
    if (logs.some(line => line.includes(secret))) found.push(`${label} in the gateway log`)
  }
  return found
}

async function controlFetch(url: string, init?: RequestInit): Promise<globalThis.Response> {
  const response = await fetch(url, init)
  if (!response.ok) throw new Error(`control endpoint: ${response.status} for ${url}`)
  return response
}

/**
 * The suite's `test`: every test records every response its browser context receives (headers and
 * textual bodies) and fails if a Cockpit key or a password shows up in any of them or in the gateway log.
 */
export const test = base.extend<GatewayOptions & { control: GatewayControl, responseScan: RecordedResponse[] }>({
  controlURL: ['http://127.0.0.1:4312', { option: true }],

  control: async ({ controlURL }, use) => {
    await use({
      strictURL: async () => (await (await controlFetch(`${controlURL}/info`)).json() as { strictUrl: string }).strictUrl,
      requests: async () => await (await controlFetch(`${controlURL}/requests`)).json() as CockpitRequest[],
      clearRequests: async () => {
        await controlFetch(`${controlURL}/requests`, { method: 'DELETE' })
      },
      logs: async () => await (await controlFetch(`${controlURL}/logs`)).json() as string[],
      messages: async () => await (await controlFetch(`${controlURL}/messages`)).json() as { name: string, email: string, message: string }[],
    })
  },

  responseScan: [async ({ context, control }, use, testInfo) => {
    const pending: Promise<RecordedResponse>[] = []
    context.on('response', response => pending.push(recordResponse(response)))
    const responses: RecordedResponse[] = []
    await use(responses)
    responses.push(...await Promise.all(pending))
    const leaks = findSecrets(responses, await control.logs())
    if (leaks.length) await testInfo.attach('leaks', { body: leaks.join('\n'), contentType: 'text/plain' })
    const partial = responses.filter(r => !r.rawHeaders)
    if (partial.length) testInfo.annotations.push({ type: 'warning', description: `raw headers unavailable, parsed ones scanned: ${partial.map(r => `${r.status} ${r.url}`).join(', ')}` })
    expect(responses.length, 'the browser received responses to scan').toBeGreaterThan(0)
    expect(leaks, 'no Cockpit key or password in any response or log line').toEqual([])
  }, { auto: true }],
})

export { expect }

/** Users of the reference seed (both Cockpit versions). */
export const USERS = {
  editor: { username: 'editor', password: 'editor-pass-123', name: 'Editor User' },
  guest: { username: 'guest', password: 'guest-pass-123', name: 'Guest User' },
} as const

/** The id of the oldest post the gateway shows this page's session: live data, a seed post (prerendered for v2). */
export async function getOldestPostId(page: Page): Promise<string> {
  const response = await page.request.get('/api/cockpit/items/posts?sort=_created&limit=1&fields=_id')
  expect(response.status()).toBe(200)
  const { items } = await response.json() as { items: { _id: string }[] }
  expect(items.length).toBeGreaterThan(0)
  return items[0]!._id
}

/** Resolves once Nuxt has hydrated the page (so clicks run the app's handlers, not native forms). */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const app = (document.querySelector('#__nuxt') as { __vue_app__?: { config: { globalProperties: { $nuxt?: { isHydrating?: boolean } } } } } | null)?.__vue_app__
    return app?.config.globalProperties.$nuxt?.isHydrating === false
  })
}

/** Logs in through the /login page as a person would, and waits for the redirect to the account page. */
export async function loginThroughPage(page: Page, user: { username: string, password: string }): Promise<void> {
  await page.goto('/login')
  await waitForHydration(page)
  await page.getByLabel('Username').fill(user.username)
  await page.getByLabel('Password').fill(user.password)
  await page.getByTestId('login-submit').click()
  await page.waitForURL(url => url.pathname === '/account')
}

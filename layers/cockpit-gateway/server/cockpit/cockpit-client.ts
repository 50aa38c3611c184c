import { createCockpitHttp } from './cockpit-http'
import type { CockpitAdapter, CockpitClientOptions } from './cockpit-types'
import { createCockpitV1Adapter } from './cockpit-v1'
import { createCockpitV2Adapter } from './cockpit-v2'

/**
 * Creates the only object that talks to Cockpit: the v2 (2.x) or v1 (0.12 legacy) adapter over one
 * shared transport. Web APIs only, so it runs unchanged on Node, Bun, Deno and Cloudflare Workers.
 *
 * Keys are passed per call (`options.key`), only ever in a header (`api-key` on v2, `Cockpit-Token`
 * on v1), and an empty key fails with `MISSING_KEY` before any network call. Every failure is a
 * `CockpitError` with a fixed message: no key, URL or upstream body in it.
 * @param options client options
 * @param options.url Base URL of Cockpit, without `/api` (e.g. `https://cms.example.com`)
 * @param options.version Cockpit major version. @default 2
 * @param options.timeout Per-call timeout in ms. @default 5000
 * @param options.retryDelay Jitter bound of the single read retry in ms. @default 200
 * @param options.maxResponseBytes Largest upstream body read. @default 16 MiB
 * @param options.authKey v1 only: key `/api/cockpit/authUser` is called with. @default undefined (authenticate fails with `MISSING_KEY`)
 * @param options.hooks `onRequest` / `onResponse`, called around every attempt (retries included);
 *   never given the key, the session cookie or the body; credential headers they set are removed;
 *   an error thrown by a hook aborts the call with that error. @default {}
 * @param options.fetch fetch implementation. @default globalThis.fetch
 * @throws TypeError `Invalid Cockpit URL` when `url` is not an http(s) URL (checked once, here)
 * @example
 * const cockpit = createCockpitClient({ url: 'https://cms.example.com', version: 2 })
 * const { items, total } = await cockpit.list('posts', { limit: 10, sort: { _created: -1 } }, { key })
 */
export function createCockpitClient(options: CockpitClientOptions): CockpitAdapter {
  const http = createCockpitHttp(options)
  const version = options.version ?? 2
  if (version === 2) return createCockpitV2Adapter(http)
  if (version === 1) return createCockpitV1Adapter(http, options.authKey)
  throw new TypeError('Unsupported Cockpit version')
}

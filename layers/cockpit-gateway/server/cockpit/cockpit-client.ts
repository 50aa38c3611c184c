import { getCockpitV1Asset, getCockpitV1Image, getCockpitV2Asset, getCockpitV2Image } from '../cockpit/assets'
import { getCockpitV1Singleton, getCockpitV2Singleton, updateCockpitV1Singleton, updateCockpitV2Singleton } from '../cockpit/singletons'
import { createCockpitHttp } from './cockpit-http'
import type { CockpitCallTrace, CockpitHttp } from './cockpit-http'
import type { CockpitAdapter, CockpitClientOptions, CockpitContentExtras } from './cockpit-types'
import { createCockpitV1Adapter } from './cockpit-v1'
import { createCockpitV2Adapter } from './cockpit-v2'

/**
 * Creates the only object that talks to Cockpit: the v2 (2.x) or v1 (0.12 legacy) adapter over one
 * shared transport: `node:http` on Node.js, fetch on Bun, Deno and Cloudflare Workers.
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
 * @param options.fetch fetch implementation (implies the fetch transport). @default globalThis.fetch
 * @param options.transport `auto` | `fetch` | `node`. @default 'auto' (`node` on Node.js)
 * @throws TypeError `Invalid Cockpit URL` when `url` is not an http(s) URL (checked once, here)
 * @example
 * const cockpit = createCockpitClient({ url: 'https://cms.example.com', version: 2 })
 * const { items, total } = await cockpit.list('posts', { limit: 10, sort: { _created: -1 } }, { key })
 */
export function createCockpitClient(options: CockpitClientOptions): CockpitAdapter {
  return createCockpitClientFactory(options).client()
}

/** Clients and raw transports over one shared transport, per request trace; see {@link createCockpitClientFactory}. */
export interface CockpitClientFactory {
  /** The adapter for a request's trace (without one, the shared plain adapter). */
  client: (trace?: CockpitCallTrace) => CockpitAdapter
  /** The raw transport for a request's trace, for calls outside the adapters (v1 form submissions). */
  http: (trace?: CockpitCallTrace) => CockpitHttp
}

/**
 * Like {@link createCockpitClient}, for a server that serves many requests: one transport (its keep-alive
 * connections, concurrency cap and circuit breaker) shared by a client per request, whose calls send that
 * request's id as `X-Request-Id` and note their upstream status and time on its trace.
 * @param options client options, as for {@link createCockpitClient}
 */
export function createCockpitClientFactory(options: CockpitClientOptions): CockpitClientFactory {
  const version = options.version ?? 2
  if (version !== 1 && version !== 2) throw new TypeError('Unsupported Cockpit version')
  const shared = createCockpitHttp(options)
  const build = (send: CockpitHttp): CockpitAdapter => version === 2
    ? Object.assign(createCockpitV2Adapter(send), {
      getSingleton: (name, callOptions) => getCockpitV2Singleton(send, name, callOptions),
      updateSingleton: (name, data, callOptions) => updateCockpitV2Singleton(send, name, data, callOptions),
      getAsset: (id, callOptions) => getCockpitV2Asset(send, id, callOptions),
      getImage: (id, transform, callOptions) => getCockpitV2Image(send, id, transform, callOptions),
    } satisfies CockpitContentExtras)
    : Object.assign(createCockpitV1Adapter(send, options.authKey), {
      getSingleton: (name, callOptions) => getCockpitV1Singleton(send, name, callOptions),
      updateSingleton: () => updateCockpitV1Singleton(),
      getAsset: (id, callOptions) => getCockpitV1Asset(send, id, callOptions),
      getImage: (id, transform, callOptions) => getCockpitV1Image(send, id, transform, callOptions),
    } satisfies CockpitContentExtras)
  const plain = build(shared)
  const http = (trace?: CockpitCallTrace): CockpitHttp => trace ? request => shared({ ...request, trace }) : shared
  return { client: trace => trace ? build(http(trace)) : plain, http }
}

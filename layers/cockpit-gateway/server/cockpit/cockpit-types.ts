import type { CockpitImageFit, CockpitImageFormat } from '../../shared/internal/cockpit-image'
import type { UpstreamGuardOptions } from '../cockpit/upstream-guard'

/** A Cockpit content item as the gateway hands it on: system fields keep Cockpit's names. */
export type CockpitItem = Record<string, unknown> & { _id: string }

/** List parameters the gateway builds itself (never the browser's query string). */
export interface CockpitListQuery {
  /** Mongo-style filter, already validated by the gateway. */
  filter?: Record<string, unknown>
  /** `{ field: 1 | -1 }` */
  sort?: Record<string, 1 | -1>
  /** @default no limit */
  limit?: number
  /** @default 0 */
  skip?: number
  /** Projection `{ field: 0 | 1 }`. */
  fields?: Record<string, 0 | 1>
  /** Locale (v2 `locale`, v1 `lang`). */
  locale?: string
}

/** Normalised list result, the same for v1 and v2. */
export interface CockpitList<T = CockpitItem> {
  items: T[]
  /** Count of items matching the filter, regardless of limit and skip. */
  total: number
}

/** A user whose credentials Cockpit accepted. Never carries a key, a token or a password hash. */
export interface CockpitUser {
  id: string
  username: string
  name: string
  email?: string
  /** v2 `role`, v1 `group`. */
  role: string
}

/** Options of one upstream call. */
export interface CockpitCallOptions {
  /** The key this call is made with; empty → fails closed with `MISSING_KEY`. */
  key: string
  /** Fields projection for reads. */
  fields?: Record<string, 0 | 1>
  /** Locale for reads. */
  locale?: string
}

/** An asset's metadata, the same for v1 and v2: only these fields are ever read from Cockpit's document. */
export interface CockpitAsset {
  id: string
  title: string
  mime: string
  /** Bytes. */
  size: number
  width: number | null
  height: number | null
}

/** One image transform; the gateway fills it only from its allow-lists. At least one of `width`/`height`. */
export interface CockpitImageTransform {
  width?: number
  height?: number
  /** @default Cockpit's `thumbnail` */
  fit?: CockpitImageFit
  /** @default Cockpit's (80 on v2, 100 on v1) */
  quality?: number
  /** @default the source's format */
  format?: CockpitImageFormat
  /** Largest body read, bytes. @default the client's `maxResponseBytes` */
  maxBytes?: number
}

/** The only code allowed to talk to Cockpit: one interface, a v2 and a v1 implementation. */
/**
 * The only code allowed to talk to Cockpit: one interface, a v2 and a v1 implementation.
 * @public
 */
export interface CockpitAdapter {
  readonly version: 1 | 2
  list(model: string, query: CockpitListQuery, options: CockpitCallOptions): Promise<CockpitList>
  /** Resolves `null` when the item does not exist (or is not visible). */
  get(model: string, id: string, options: CockpitCallOptions): Promise<CockpitItem | null>
  create(model: string, data: Record<string, unknown>, options: CockpitCallOptions): Promise<CockpitItem>
  /** Partial update; rejects `NOT_FOUND` for a missing item; resolves the full stored item. */
  update(model: string, id: string, data: Record<string, unknown>, options: CockpitCallOptions): Promise<CockpitItem>
  /** Rejects `NOT_FOUND` for a missing item. */
  remove(model: string, id: string, options: CockpitCallOptions): Promise<void>
  /** A singleton's stored value (v2 model of type singleton, v1 singleton); `MODEL_NOT_FOUND` when Cockpit has none of that name. */
  getSingleton(name: string, options: CockpitCallOptions): Promise<Record<string, unknown>>
  /**
   * Changes only the fields in `data` of a singleton and resolves the stored value. v2: the stored document's
   * `_id` is read with `readKey` and the write is a merge by `_id` (a write without `_id` would null every
   * field not sent, contract 4.1). v1 has no REST write: rejects `NOT_SUPPORTED`.
   */
  updateSingleton(name: string, data: Record<string, unknown>, options: CockpitCallOptions & { readKey: string }): Promise<Record<string, unknown>>
  /** An asset's metadata, or `null` for an unknown id. */
  getAsset(id: string, options: CockpitCallOptions): Promise<CockpitAsset | null>
  /** The bytes of a transformed image asset, or `null` when there is no such image asset. */
  getImage(id: string, transform: CockpitImageTransform, options: CockpitCallOptions): Promise<Uint8Array | null>
  /** Resolves the user, or `null` for wrong credentials (unknown user and wrong password alike). */
  authenticate(username: string, password: string): Promise<CockpitUser | null>
  /** Whether Cockpit answers its health check. Never throws. */
  health(): Promise<boolean>
}

/** The singleton and asset operations, built beside each version's adapter (server/cockpit/). */
export type CockpitContentExtras = Pick<CockpitAdapter, 'getSingleton' | 'updateSingleton' | 'getAsset' | 'getImage'>

/** Hooks around every upstream call, e.g. to add a header or to audit. */
export interface CockpitClientHooks {
  /** Called before each request; may add headers. Never receives the key. */
  onRequest?: (context: { method: string, operation: string, model?: string, headers: Headers, requestId?: string }) => void | Promise<void>
  /** Asked before each request: `false` skips `onRequest` (and the `Headers` it is handed). @default () => true */
  hasRequestListener?: () => boolean
  /** Called after each answer (or failure) with the upstream status, if any. */
  onResponse?: (context: { method: string, operation: string, model?: string, status?: number, durationMs: number, requestId?: string }) => void | Promise<void>
}

/** Everything a client needs; built from runtimeConfig by `useCockpitClient`. */
export interface CockpitClientOptions {
  /** Base URL of Cockpit, e.g. `https://cms.example.com` (no trailing `/api`). */
  url: string
  /** @default 2 */
  version: 1 | 2
  /** Per-call timeout in ms. @default 5000 */
  timeout?: number
  /** v1 only: the server-held key `authUser` is called with. */
  authKey?: string
  /** Jitter bound of the single read retry in ms. @default 200 */
  retryDelay?: number
  /** Largest upstream body read before failing with `UPSTREAM_ERROR`. @default 16 MiB */
  maxResponseBytes?: number
  hooks?: CockpitClientHooks
  /** Injected for tests and non-standard runtimes; implies `transport: 'fetch'`. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch
  /**
   * How calls are sent: `fetch` (Web API, every runtime), `node` (`node:http` with a keep-alive agent; Node.js
   * only, about half of fetch's CPU per proxied request there) or `auto` (`node` on Node.js, `fetch` elsewhere). @default 'auto'
   */
  transport?: 'auto' | 'fetch' | 'node'
  /** A cap on calls in flight with a short queue, and a circuit breaker (see `createUpstreamGuard`). @default undefined (none) */
  guard?: UpstreamGuardOptions
}

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
  /** Resolves the user, or `null` for wrong credentials (unknown user and wrong password alike). */
  authenticate(username: string, password: string): Promise<CockpitUser | null>
  /** Whether Cockpit answers its health check. Never throws. */
  health(): Promise<boolean>
}

/** Hooks around every upstream call, e.g. to add a header or to audit. */
export interface CockpitClientHooks {
  /** Called before each request; may add headers. Never receives the key. */
  onRequest?: (context: { method: string, operation: string, model?: string, headers: Headers }) => void | Promise<void>
  /** Called after each answer (or failure) with the upstream status, if any. */
  onResponse?: (context: { method: string, operation: string, model?: string, status?: number, durationMs: number }) => void | Promise<void>
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
  /** Injected for tests and non-standard runtimes. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch
}

import type { App } from 'h3'
import type { AddressInfo } from 'node:net'
import { STORAGE_KEYS, buildV1SeedData, buildV2SeedData } from './seed-data'
import type { EmulatorFault, RecordedRequest } from './server'
import { createEmulatorServer } from './server'
import { createDocumentStore } from './store'
import { createV1App } from './v1-app'
import { createV2App } from './v2-app'
import { createAdminSessions } from './v2-session'
import { ASSET_KEYS, adoptStoredSeedIdentity, buildV1AssetDocs, buildV2AssetDocs, createSeedAssetIdentity, getAssetKey, writeSeedFiles } from './assets-seed'
import { createFileStore } from './files'
import type { Doc } from './query'
import { V1_SINGLETONS_KEY, buildV1SingletonDocs } from './v1-singletons'
import { v1FormEntriesKey } from './v1-forms'
import { SEED_V1, SEED_V2 } from './seed'
import { V2_SINGLETONS_KEY, buildV2SingletonDocs } from './v2-singletons'

export type { EmulatorFault, RecordedRequest } from './server'
export { SEED, SEED_FILES, SEED_PASSWORD_HASHES, SEED_V1, SEED_V2 } from './seed'
export { V2_SESSION_COOKIE } from './v2-session'

/** A Cockpit emulator listening on a port. */
export interface RunningEmulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:43123`. */
  url: string
  port: number
  version: 1 | 2
  /** Every request received, oldest first (the same array for the emulator's lifetime). */
  requests: RecordedRequest[]
  /** Empties {@link RunningEmulator.requests}. */
  clearRequests(): void
  /** Simulates an outage; `null` ends it. */
  setFault(fault: EmulatorFault): void
  /**
   * The stored asset documents (v2 `assets`, v1 `cockpit/assets`). Ids and paths are generated per
   * emulator, like Cockpit's: find the seed files here (by `title` or `path`), never hard-code them.
   */
  listAssets(): Promise<Doc[]>
  /** Puts the seed data back (the same asset ids and paths, files and no thumbnails) and forgets admin sessions. Recorded requests and the fault stay. */
  reset(): Promise<void>
  close(): Promise<void>
}

/** Options of {@link startEmulator}. */
export interface StartEmulatorOptions {
  /** Which Cockpit to emulate: 2 (Cockpit-HQ 2.13) or 1 (agentejo 0.12). */
  version: 1 | 2
  /** `0` = any free port. @default 0 */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /** Keep the data in this directory (unstorage `fs-lite`) instead of memory. @default in-memory */
  dataDir?: string
}

/**
 * Starts a Cockpit emulator seeded with the contract's reference data.
 * @example
 * const cockpit = await startEmulator({ version: 2, port: 0 })
 * await fetch(`${cockpit.url}/api/content/items/posts`, { headers: { 'api-key': SEED_V2.keys.full } })
 * await cockpit.close()
 */
export async function startEmulator(options: StartEmulatorOptions): Promise<RunningEmulator> {
  const { version, port = 0, host = '127.0.0.1', dataDir } = options
  if (version !== 1 && version !== 2) throw new TypeError(`Unsupported Cockpit version: ${String(version)} (use 1 or 2)`)
  const identity = createSeedAssetIdentity()
  const seed = version === 2
    // the empty lists matter: reset() only rewrites the keys the seed names
    ? () => ({ ...buildV2SeedData(), [STORAGE_KEYS.v2Items(SEED_V2.messagesModel)]: [], [V2_SINGLETONS_KEY]: buildV2SingletonDocs(), [ASSET_KEYS.v2]: buildV2AssetDocs(identity) })
    : () => ({ ...buildV1SeedData(), [v1FormEntriesKey(SEED_V1.form)]: [], [V1_SINGLETONS_KEY]: buildV1SingletonDocs(), [ASSET_KEYS.v1]: buildV1AssetDocs(identity) })
  const store = await createDocumentStore({ dataDir, seed })
  await adoptStoredSeedIdentity(identity, store, version)
  const files = createFileStore({ dataDir, version })
  await writeSeedFiles(store, files, version)
  const sessions = createAdminSessions()
  const app: App = version === 2 ? createV2App({ store, sessions, files }) : createV1App(store, files)

  const requests: RecordedRequest[] = []
  let fault: EmulatorFault = null
  const emulator = createEmulatorServer(app, {
    record: request => requests.push(request),
    getFault: () => fault,
  })

  await new Promise<void>((resolve, reject) => {
    emulator.server.once('error', reject)
    emulator.server.listen(port, host, () => {
      emulator.server.off('error', reject)
      resolve()
    })
  })
  const address = emulator.server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    version,
    requests,
    clearRequests: () => {
      requests.length = 0
    },
    setFault: (next) => {
      fault = next
    },
    listAssets: () => store.read(getAssetKey(version)),
    reset: async () => {
      sessions.clear()
      await store.reset()
      await files.clear()
      await writeSeedFiles(store, files, version)
    },
    close: async () => {
      await emulator.close()
      await store.dispose()
      await files.dispose()
    },
  }
}

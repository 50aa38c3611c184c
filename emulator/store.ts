import { createStorage } from 'unstorage'
import type { Storage } from 'unstorage'
import fsLiteDriver from 'unstorage/drivers/fs-lite'
import memoryDriver from 'unstorage/drivers/memory'
import type { Doc } from './query'

/** Lists of documents kept in unstorage, one list per key (users, items of one model…). */
export interface DocumentStore {
  /** A copy of the documents under `key` (empty when none). */
  read(key: string): Promise<Doc[]>
  /**
   * Changes the documents under `key`: `change` edits the array it gets in place and returns a
   * result. Changes run one at a time, so concurrent requests never lose a write.
   */
  mutate<T>(key: string, change: (docs: Doc[]) => T): Promise<T>
  /** Writes the seed again, dropping every change. */
  reset(): Promise<void>
  /** Releases the storage driver. */
  dispose(): Promise<void>
}

/** Options of {@link createDocumentStore}. */
export interface DocumentStoreOptions {
  /** Directory for unstorage's `fs-lite` driver; data then survives restarts. @default in-memory */
  dataDir?: string
  /** The seed documents by key, built fresh on each call. */
  seed: () => Record<string, Doc[]>
}

/** Opens the store and writes the seed wherever a key holds nothing yet. */
export async function createDocumentStore(options: DocumentStoreOptions): Promise<DocumentStore> {
  const storage: Storage = createStorage({
    driver: options.dataDir ? fsLiteDriver({ base: options.dataDir }) : memoryDriver(),
  })
  let queue: Promise<unknown> = Promise.resolve()
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task)
    queue = run.catch(() => undefined)
    return run
  }

  await exclusive(async () => {
    for (const [key, docs] of Object.entries(options.seed())) {
      if (!(await storage.hasItem(key))) await storage.setItem(key, docs)
    }
  })

  const readDocs = async (key: string): Promise<Doc[]> => {
    const value = await storage.getItem<Doc[]>(key)
    return Array.isArray(value) ? value : []
  }

  return {
    read: readDocs,
    mutate: (key, change) => exclusive(async () => {
      const docs = await readDocs(key)
      const result = change(docs)
      await storage.setItem(key, docs)
      return result
    }),
    reset: () => exclusive(async () => {
      for (const [key, docs] of Object.entries(options.seed())) await storage.setItem(key, docs)
    }),
    dispose: () => storage.dispose(),
  }
}

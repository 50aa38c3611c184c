import { join } from 'node:path'
import { createStorage } from 'unstorage'
import type { Storage } from 'unstorage'
import fsLiteDriver from 'unstorage/drivers/fs-lite'
import memoryDriver from 'unstorage/drivers/memory'

/**
 * The files below Cockpit's `storage/` folder that the emulator serves (uploads and thumbnails),
 * by path relative to it, e.g. `uploads/2026/12/03/acceptance-image_uid_6b1120917ccbe.png`.
 */
export interface FileStore {
  /** The bytes, or `null` when there is no such file (or the path is unsafe). */
  read(path: string): Promise<Buffer | null>
  write(path: string, bytes: Uint8Array): Promise<void>
  remove(path: string): Promise<void>
  /** Deletes every file (the caller writes the seed files again). */
  clear(): Promise<void>
  dispose(): Promise<void>
}

/** `a/b/c.png` → `a:b:c.png`; `null` for empty paths and `..`/`.` segments. */
function toKey(path: string): string | null {
  const segments = path.split('/').filter(Boolean)
  if (segments.length === 0 || segments.some(segment => segment === '..' || segment === '.' || segment.includes(':'))) return null
  return segments.join(':')
}

/**
 * Opens the file store: in memory, or in `<dataDir>/files-v<version>` with unstorage's `fs-lite`
 * driver (a folder per version, since v1 and v2 may share one data directory).
 */
export function createFileStore(options: { dataDir?: string, version: 1 | 2 }): FileStore {
  const storage: Storage = createStorage({
    driver: options.dataDir ? fsLiteDriver({ base: join(options.dataDir, `files-v${options.version}`) }) : memoryDriver(),
  })
  return {
    read: async (path) => {
      const key = toKey(path)
      if (!key) return null
      const value = await storage.getItemRaw<Uint8Array | string>(key)
      if (value === null || value === undefined) return null
      return Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array)
    },
    write: async (path, bytes) => {
      const key = toKey(path)
      if (!key) throw new Error('unsafe file path')
      await storage.setItemRaw(key, Buffer.from(bytes))
    },
    remove: async (path) => {
      const key = toKey(path)
      if (key) await storage.removeItem(key)
    },
    clear: () => storage.clear(),
    dispose: () => storage.dispose(),
  }
}

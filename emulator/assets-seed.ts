import { createHash, randomBytes } from 'node:crypto'
import type { FileStore } from './files'
import { createObjectId } from './ids'
import type { Doc } from './query'
import { SEED_FILES, SEED_V1, SEED_V2 } from './seed'
import type { DocumentStore } from './store'

/** Storage keys of the asset documents (`assets` in v2, `cockpit/assets` in v1). */
export const ASSET_KEYS = { v2: 'v2:assets', v1: 'v1:cockpit:assets' } as const

/** The documents key of a version. */
export function getAssetKey(version: 1 | 2): string {
  return version === 2 ? ASSET_KEYS.v2 : ASSET_KEYS.v1
}

type SeedFileName = keyof typeof SEED_FILES

/** Where this emulator put the two seed files: generated once per emulator, kept across `reset()`. */
export interface SeedAssetIdentity {
  created: number
  files: Record<SeedFileName, { id: string, path: string }>
}

/**
 * PHP's `uniqid()`: 8 hex of seconds and 5 hex of microseconds (13 hex). A random microsecond part
 * keeps two files uploaded in the same millisecond apart.
 */
export function createUniqid(now = Date.now()): string {
  const micros = (now % 1000) * 1000 + randomBytes(2).readUInt16BE(0) % 1000
  return Math.floor(now / 1000).toString(16).padStart(8, '0') + micros.toString(16).padStart(5, '0')
}

/**
 * A storage path as Cockpit makes one on upload: `/<YYYY>/<MM>/<DD>/<name>_uid_<uniqid>.<ext>`,
 * the name cleaned of anything but letters, digits, `-`, `_` and `.`.
 * @example createUploadPath('acceptance-image.png') // '/2026/12/03/acceptance-image_uid_6b1120917ccbe.png'
 */
export function createUploadPath(fileName: string, now = Date.now()): string {
  const date = new Date(now)
  const day = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()].map(part => String(part).padStart(2, '0'))
  const clean = fileName.replace(/\s+/g, '-').replace(/[^a-zA-Z0-9\-_.]/g, '')
  const dot = clean.lastIndexOf('.')
  const [base, extension] = dot > 0 ? [clean.slice(0, dot), clean.slice(dot + 1)] : [clean || 'file', '']
  return `/${day.join('/')}/${base}_uid_${createUniqid(now)}${extension ? `.${extension}` : ''}`
}

/** Fresh ids and paths for the two seed files. */
export function createSeedAssetIdentity(): SeedAssetIdentity {
  const now = Date.now()
  return {
    created: Math.floor(now / 1000),
    files: {
      image: { id: createObjectId(), path: createUploadPath(SEED_FILES.image.name, now) },
      notes: { id: createObjectId(), path: createUploadPath(SEED_FILES.notes.name, now + 1) },
    },
  }
}

/** The bytes of a seed file (contract 6.1). */
export function getSeedFileBytes(name: SeedFileName): Buffer {
  return Buffer.from(SEED_FILES[name].base64, 'base64')
}

/** The md5 of some bytes, as Cockpit's `_hash`. */
export function md5(bytes: Uint8Array | string): string {
  return createHash('md5').update(bytes).digest('hex')
}

/** The v2 asset documents of contract 6.2, in Cockpit's key order. */
export function buildV2AssetDocs(identity: SeedAssetIdentity): Doc[] {
  const t = identity.created
  return (Object.keys(SEED_FILES) as SeedFileName[]).map((name) => {
    const file = SEED_FILES[name]
    const isImage = file.width !== null
    return {
      path: identity.files[name].path,
      title: file.title,
      mime: file.mime,
      type: isImage ? 'image' : 'document',
      description: '',
      tags: [],
      size: file.size,
      colors: file.colors === null ? null : [...file.colors],
      width: file.width,
      height: file.height,
      _hash: file.md5,
      _created: t,
      _modified: t,
      _cby: SEED_V2.users.admin.id,
      ...(isImage ? { altText: file.name, thumbhash: file.thumbhash } : {}),
      _id: identity.files[name].id,
    }
  })
}

/** The v1 asset documents of contract 6.3 (file name as title, type flags, `created`, `_by`). */
export function buildV1AssetDocs(identity: SeedAssetIdentity): Doc[] {
  const t = identity.created
  return (Object.keys(SEED_FILES) as SeedFileName[]).map((name) => {
    const file = SEED_FILES[name]
    const isImage = file.width !== null
    return {
      path: identity.files[name].path,
      title: file.name,
      mime: file.mime,
      description: '',
      tags: [],
      size: file.size,
      image: isImage,
      video: false,
      audio: false,
      archive: false,
      document: !isImage,
      code: false,
      colors: file.colors === null ? null : [...file.colors],
      width: file.width,
      height: file.height,
      created: t,
      modified: t,
      _by: SEED_V1.users.admin.id,
      _id: identity.files[name].id,
    }
  })
}

const SEED_PATH = /\/acceptance-(image|notes)_uid_[0-9a-f]{13}\.(png|txt)$/

/**
 * Takes over the ids, paths and time of seed files already stored (a data directory from an
 * earlier run), so that `reset()` puts back the same ones instead of this run's fresh identity.
 */
export async function adoptStoredSeedIdentity(identity: SeedAssetIdentity, store: DocumentStore, version: 1 | 2): Promise<void> {
  for (const doc of await store.read(getAssetKey(version))) {
    const match = typeof doc.path === 'string' ? SEED_PATH.exec(doc.path) : null
    if (!match || typeof doc._id !== 'string') continue
    identity.files[match[1] === 'image' ? 'image' : 'notes'] = { id: doc._id, path: doc.path as string }
    const created = version === 2 ? doc._created : doc.created
    if (typeof created === 'number') identity.created = created
  }
}

/**
 * Writes the bytes of every stored seed asset whose file is missing. Works from the stored
 * documents, so a data directory from an earlier run keeps its own ids and paths.
 */
export async function writeSeedFiles(store: DocumentStore, files: FileStore, version: 1 | 2): Promise<void> {
  for (const doc of await store.read(getAssetKey(version))) {
    const match = typeof doc.path === 'string' ? SEED_PATH.exec(doc.path) : null
    if (!match) continue
    const path = `uploads${doc.path as string}`
    if (!(await files.read(path))) await files.write(path, getSeedFileBytes(match[1] === 'image' ? 'image' : 'notes'))
  }
}

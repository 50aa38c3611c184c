import type { H3Event } from 'h3'
import { send, setResponseHeader, setResponseStatus } from 'h3'
import type { FileStore } from './files'
import { LIME_HTML, sendExact } from './http'

const TYPES: Record<string, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  txt: 'text/plain; charset=UTF-8',
  html: 'text/html; charset=UTF-8',
  json: 'application/json',
  pdf: 'application/pdf',
}

/** The content type `php -S` sends for a file name; unknown extensions get `application/octet-stream`. */
export function getFileContentType(name: string): string {
  const extension = name.slice(name.lastIndexOf('.') + 1).toLowerCase()
  return Object.hasOwn(TYPES, extension) ? TYPES[extension]! : 'application/octet-stream'
}

/** The public folders below `/storage/`: uploads and the version's thumbnail folder. */
export function getPublicStorageFolders(version: 1 | 2): string[] {
  return ['uploads/', version === 2 ? 'tmp/thumbs/' : 'thumbs/']
}

/** The v2 admin UI's 404 page (its HTML, shortened). */
const V2_NOT_FOUND_PAGE = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>404 - Page not found</title></head><body><h1>404</h1><p>Page not found</p></body></html>\n'

/**
 * `GET /storage/<path>`: a file from the public folders, without a key, with `Content-Type` and
 * `Content-Length` and no caching headers (php -S). A missing file: v2 answers its HTML 404 page,
 * v1 redirects to its login. Returns `false` when the path is not below `/storage/`.
 */
export async function sendStorageFile(event: H3Event, files: FileStore, version: 1 | 2, path: string): Promise<boolean> {
  if (!path.startsWith('/storage/')) return false
  const relative = path.slice('/storage/'.length)
  const isPublic = getPublicStorageFolders(version).some(folder => relative.startsWith(folder))
  const bytes = isPublic ? await files.read(relative) : null
  if (bytes) {
    setResponseStatus(event, 200)
    setResponseHeader(event, 'content-type', getFileContentType(relative))
    setResponseHeader(event, 'content-length', bytes.length)
    await send(event, bytes)
    return true
  }
  if (version === 2) {
    await sendExact(event, 404, V2_NOT_FOUND_PAGE, LIME_HTML)
    return true
  }
  setResponseStatus(event, 302)
  setResponseHeader(event, 'location', `/auth/login?to=${encodeURIComponent(path)}`)
  await sendExact(event, 302, '', LIME_HTML)
  return true
}

/**
 * The absolute base URL Cockpit puts into thumbnail URLs: the address the server listens on
 * (`SERVER_NAME` and port), never the request's `Host` header.
 */
export function getServerBaseUrl(event: H3Event): string {
  const socket = event.node.req.socket
  const address = (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '')
  const host = address.includes(':') ? `[${address}]` : address
  return `http://${host}:${socket.localPort ?? 80}`
}

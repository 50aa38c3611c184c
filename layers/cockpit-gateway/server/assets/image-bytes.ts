/** Raster image types the gateway serves; anything else (SVG, HTML, text) never leaves it as an image. */
export type RasterImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'image/avif'

/** Asset mime types the image route accepts before asking Cockpit (no SVG: it can carry script). */
export const RASTER_IMAGE_TYPES: ReadonlySet<string> = new Set<RasterImageType>(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif'])

const startsWith = (bytes: Uint8Array, signature: number[], offset = 0) => signature.every((byte, i) => bytes[offset + i] === byte)
const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to))

/**
 * The raster type the bytes really are, from their signature (never from what Cockpit said), or `null`.
 * @param bytes the image bytes
 */
export function sniffRasterImage(bytes: Uint8Array): RasterImageType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return 'image/png'
  if (startsWith(bytes, [0xFF, 0xD8, 0xFF])) return 'image/jpeg'
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'image/gif'
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'image/webp'
  if (ascii(bytes, 4, 8) === 'ftyp' && ['avif', 'avis'].includes(ascii(bytes, 8, 12))) return 'image/avif'
  return null
}

/**
 * Base64 of bytes, with Web APIs only (runs on every target runtime).
 * @param bytes any bytes
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

/**
 * Bytes of a base64 string, with Web APIs only.
 * @param base64 the encoded bytes
 */
export function fromBase64(base64: string): Uint8Array {
  const binary = atob(base64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/**
 * A strong ETag for bytes: the first 128 bits of their SHA-256, quoted.
 * @param bytes the body
 */
export async function computeEtag(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return `"${[...digest.subarray(0, 16)].map(byte => byte.toString(16).padStart(2, '0')).join('')}"`
}

import { deflateSync, inflateSync } from 'node:zlib'

/** A decoded image: 8-bit RGBA pixels, row after row. */
export interface RgbaImage {
  width: number
  height: number
  /** `width * height * 4` bytes. */
  data: Uint8Array
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 as PNG chunks use it (node 20 has no `zlib.crc32`). */
function crc32(bytes: Uint8Array): number {
  let crc = 0xFFFFFFFF
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xFF]! ^ (crc >>> 8)
  return (crc ^ 0xFFFFFFFF) >>> 0
}

/** Whether the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).equals(SIGNATURE)
}

/** Width and height from the IHDR chunk, or `null` when the bytes are no PNG. */
export function readPngSize(bytes: Uint8Array): { width: number, height: number } | null {
  if (!isPng(bytes) || bytes.length < 24) return null
  const view = Buffer.from(bytes)
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) }
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }

/**
 * Decodes a non-interlaced 8-bit PNG (grey, RGB, palette, grey+alpha or RGBA) to RGBA. Throws on
 * anything else: the emulator only ever decodes the seed image and PNG uploads.
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  if (!isPng(bytes)) throw new Error('not a PNG')
  const buffer = Buffer.from(bytes)
  let offset = 8
  let width = 0
  let height = 0
  let colorType = -1
  let palette: Buffer | undefined
  let transparency: Buffer | undefined
  const idat: Buffer[] = []
  while (offset + 8 <= buffer.length) {
    const length = buffer.readUInt32BE(offset)
    const type = buffer.toString('latin1', offset + 4, offset + 8)
    const body = buffer.subarray(offset + 8, offset + 8 + length)
    offset += 12 + length
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const [bitDepth, type_, , , interlace] = [body[8], body[9], body[10], body[11], body[12]]
      if (bitDepth !== 8 || interlace !== 0 || CHANNELS[type_!] === undefined) throw new Error('unsupported PNG')
      colorType = type_!
    }
    else if (type === 'PLTE') palette = body
    else if (type === 'tRNS') transparency = body
    else if (type === 'IDAT') idat.push(body)
    else if (type === 'IEND') break
  }
  if (colorType < 0 || width === 0 || height === 0) throw new Error('broken PNG')
  const channels = CHANNELS[colorType]!
  const stride = width * channels
  const raw = inflateSync(Buffer.concat(idat))
  if (raw.length < height * (stride + 1)) throw new Error('broken PNG')
  const pixels = unfilter(raw, height, stride, channels)
  const data = new Uint8Array(width * height * 4)
  for (let i = 0; i < width * height; i++) {
    const source = i * channels
    let rgba: [number, number, number, number]
    if (colorType === 6) rgba = [pixels[source]!, pixels[source + 1]!, pixels[source + 2]!, pixels[source + 3]!]
    else if (colorType === 2) rgba = [pixels[source]!, pixels[source + 1]!, pixels[source + 2]!, 255]
    else if (colorType === 0) rgba = [pixels[source]!, pixels[source]!, pixels[source]!, 255]
    else if (colorType === 4) rgba = [pixels[source]!, pixels[source]!, pixels[source]!, pixels[source + 1]!]
    else {
      const index = pixels[source]!
      if (!palette || index * 3 + 2 >= palette.length) throw new Error('broken PNG palette')
      rgba = [palette[index * 3]!, palette[index * 3 + 1]!, palette[index * 3 + 2]!, transparency?.[index] ?? 255]
    }
    data.set(rgba, i * 4)
  }
  return { width, height, data }
}

/** Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth). */
function unfilter(raw: Buffer, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    const at = y * stride
    for (let x = 0; x < stride; x++) {
      const left = x >= bpp ? out[at + x - bpp]! : 0
      const up = y > 0 ? out[at - stride + x]! : 0
      const upLeft = y > 0 && x >= bpp ? out[at - stride + x - bpp]! : 0
      let predictor = 0
      if (filter === 1) predictor = left
      else if (filter === 2) predictor = up
      else if (filter === 3) predictor = (left + up) >> 1
      else if (filter === 4) predictor = paeth(left, up, upLeft)
      else if (filter !== 0) throw new Error('broken PNG filter')
      out[at + x] = (row[x]! + predictor) & 0xFF
    }
  }
  return out
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  if (pa <= pb && pa <= pc) return a
  return pb <= pc ? b : c
}

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(body.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0)
  return Buffer.concat([head, body, crc])
}

/** Encodes RGBA pixels as an 8-bit RGBA PNG (filter None, zlib level 9), like GD's thumbnails. */
export function encodePng(image: RgbaImage): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(image.width, 0)
  header.writeUInt32BE(image.height, 4)
  header.set([8, 6, 0, 0, 0], 8)
  const stride = image.width * 4
  const raw = Buffer.alloc(image.height * (stride + 1))
  for (let y = 0; y < image.height; y++) raw.set(image.data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1)
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', new Uint8Array(0))])
}

/** Scales to exactly `width`×`height` by nearest neighbour. */
export function resizeNearest(image: RgbaImage, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    const sourceY = Math.min(image.height - 1, Math.floor((y + 0.5) * image.height / height))
    for (let x = 0; x < width; x++) {
      const sourceX = Math.min(image.width - 1, Math.floor((x + 0.5) * image.width / width))
      const from = (sourceY * image.width + sourceX) * 4
      data.set(image.data.subarray(from, from + 4), (y * width + x) * 4)
    }
  }
  return { width, height, data }
}

/** The `width`×`height` region whose top-left corner is (`left`, `top`). */
export function cropImage(image: RgbaImage, left: number, top: number, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 4
    data.set(image.data.subarray(from, from + width * 4), y * width * 4)
  }
  return { width, height, data }
}

/** The pixel at (x, y) as `#rrggbb` (tests use it to check where a square ended up). */
export function getPixelHex(image: RgbaImage, x: number, y: number): string {
  const at = (y * image.width + x) * 4
  return `#${[...image.data.subarray(at, at + 3)].map(value => value.toString(16).padStart(2, '0')).join('')}`
}

/** Up to five most frequent colours, as `#rrggbb` (for the `colors` of an uploaded image). */
export function getDominantColors(image: RgbaImage): string[] {
  const counts = new Map<string, number>()
  for (let i = 0; i < image.width * image.height; i++) {
    const hex = getPixelHex(image, i % image.width, Math.floor(i / image.width))
    counts.set(hex, (counts.get(hex) ?? 0) + 1)
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([hex]) => hex)
}

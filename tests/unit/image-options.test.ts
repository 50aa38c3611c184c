import { describe, expect, it } from 'vitest'
import { parseImageQuery, pickImageWidth } from '../../layers/cockpit-gateway/server/assets/image-options'
import { sniffRasterImage } from '../../layers/cockpit-gateway/server/assets/image-bytes'

const IMAGES = { widths: [32, 64, 640], heights: [32], qualities: [80], formats: ['png', 'webp'] as ('png' | 'webp')[], fits: ['thumbnail', 'bestFit'] as ('thumbnail' | 'bestFit')[], maxBytes: 1000 }

function codeOf(query: Record<string, unknown>): string | undefined {
  try {
    parseImageQuery(query, IMAGES)
    return undefined
  }
  catch (error) {
    return (error as { data?: { code?: string } }).data?.code
  }
}

describe('image query allow-lists', () => {
  it('accepts allowed values and gives one canonical key per transform', () => {
    const a = parseImageQuery({ w: '64', format: 'webp', q: '80', fit: 'bestFit' }, IMAGES)
    const b = parseImageQuery({ fit: 'bestFit', q: '80', format: 'webp', w: '64' }, IMAGES)
    expect(a.transform).toEqual({ width: 64, height: undefined, fit: 'bestFit', quality: 80, format: 'webp', maxBytes: 1000 })
    expect(a.key).toBe(b.key)
    expect(parseImageQuery({ h: '32' }, IMAGES).transform.height).toBe(32)
  })

  it('refuses values outside the lists, malformed values, unknown or repeated parameters, and no size', () => {
    for (const query of [{ w: '65' }, { w: '99999' }, { h: '64' }, { w: '64', q: '81' }, { w: '64', format: 'svg' }, { w: '64', fit: 'resize' }, {}]) {
      expect(codeOf(query), JSON.stringify(query)).toBe('IMAGE_OPTIONS_NOT_ALLOWED')
    }
    for (const query of [{ w: '-1' }, { w: '064' }, { w: '1e3' }, { w: ['64', '32'] }, { w: '64', src: '/etc/hostname' }, { w: '64', o: '1' }]) {
      expect(codeOf(query), JSON.stringify(query)).toBe('INVALID_QUERY')
    }
  })

  it('picks the smallest allowed width that covers the asset, else the largest', () => {
    expect(pickImageWidth(64, [640, 32, 64])).toBe(64)
    expect(pickImageWidth(50, [640, 32, 64])).toBe(64)
    expect(pickImageWidth(4000, [640, 32, 64])).toBe(640)
    expect(pickImageWidth(null, [640, 32])).toBe(640)
    expect(pickImageWidth(10, [])).toBeUndefined()
  })
})

describe('raster sniffing', () => {
  it('names PNG, JPEG, GIF, WebP and AVIF by their bytes, and nothing else', () => {
    const bytes = (...values: (number | string)[]) => new Uint8Array(values.flatMap(v => typeof v === 'string' ? [...v].map(c => c.charCodeAt(0)) : [v]))
    expect(sniffRasterImage(bytes(0x89, 'PNG', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0))).toBe('image/png')
    expect(sniffRasterImage(bytes(0xFF, 0xD8, 0xFF, 0xE0))).toBe('image/jpeg')
    expect(sniffRasterImage(bytes('GIF89a'))).toBe('image/gif')
    expect(sniffRasterImage(bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 '))).toBe('image/webp')
    expect(sniffRasterImage(bytes(0, 0, 0, 0x1C, 'ftypavif'))).toBe('image/avif')
    expect(sniffRasterImage(bytes('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull()
    expect(sniffRasterImage(bytes('<?xml version="1.0"?><svg/>'))).toBeNull()
    expect(sniffRasterImage(bytes('http://127.0.0.1/storage/uploads/a.txt'))).toBeNull()
    expect(sniffRasterImage(new Uint8Array(0))).toBeNull()
  })
})

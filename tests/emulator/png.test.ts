import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { getSeedFileBytes } from '../../emulator/assets-seed'
import { MAX_OUTPUT_PIXELS, planTransform, readDimension, readResizeMode, renderTransform } from '../../emulator/image-transform'
import { decodePng, encodePng, getPixelHex, readPngSize, resizeNearest } from '../../emulator/png'
import { SEED_FILES } from '../../emulator/seed'

const BLUE = '#1d4ed8'
const WHITE = '#ffffff'
const RED = '#d62828'
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex')

describe('6.1 seed files', () => {
  it('the PNG is the contract\'s 174 bytes (md5 6d10e7a6…), a 64×32 image', () => {
    const bytes = getSeedFileBytes('image')
    expect(bytes.length).toBe(174)
    expect(md5(bytes)).toBe(SEED_FILES.image.md5)
    expect(md5(bytes)).toBe('6d10e7a6a540af4b415a3255c58543c2')
    expect(readPngSize(bytes)).toEqual({ width: 64, height: 32 })
  })

  it('the text file is the contract\'s 48 bytes (md5 1c4d5bc1…)', () => {
    const bytes = getSeedFileBytes('notes')
    expect(bytes.toString('utf8')).toBe('Cockpit acceptance harness: a plain-text asset.\n')
    expect(bytes.length).toBe(48)
    expect(md5(bytes)).toBe('1c4d5bc12999c161a32ad182bba70498')
  })

  it('decodes to a blue background, a white square at (8,8) and a red one at (40,8), 16×16 each', () => {
    const image = decodePng(getSeedFileBytes('image'))
    expect([image.width, image.height]).toEqual([64, 32])
    expect(getPixelHex(image, 0, 0)).toBe(BLUE)
    expect(getPixelHex(image, 8, 8)).toBe(WHITE)
    expect(getPixelHex(image, 23, 23)).toBe(WHITE)
    expect(getPixelHex(image, 24, 24)).toBe(BLUE)
    expect(getPixelHex(image, 40, 8)).toBe(RED)
    expect(getPixelHex(image, 55, 23)).toBe(RED)
    expect(getPixelHex(image, 63, 31)).toBe(BLUE)
  })
})

describe('PNG codec and nearest-neighbour resize', () => {
  it('encodes RGBA that decodes back to the same pixels', () => {
    const image = decodePng(getSeedFileBytes('image'))
    const again = decodePng(encodePng(image))
    expect(again.width).toBe(64)
    expect(Buffer.from(again.data).equals(Buffer.from(image.data))).toBe(true)
  })

  it('halving keeps the squares where they were, at half the size', () => {
    const half = resizeNearest(decodePng(getSeedFileBytes('image')), 32, 16)
    expect(getPixelHex(half, 4, 4)).toBe(WHITE)
    expect(getPixelHex(half, 11, 11)).toBe(WHITE)
    expect(getPixelHex(half, 12, 12)).toBe(BLUE)
    expect(getPixelHex(half, 20, 4)).toBe(RED)
    expect(getPixelHex(half, 0, 0)).toBe(BLUE)
  })

  it('renderTransform gives a PNG of the planned size, not a fixed thumbnail', () => {
    const source = getSeedFileBytes('image')
    const sizes = [[32, 16], [128, 64], [10, 10]].map(([w, h]) => readPngSize(renderTransform(source, planTransform({ width: 64, height: 32 }, w!, h!, 'resize')!)))
    expect(sizes).toEqual([{ width: 32, height: 16 }, { width: 128, height: 64 }, { width: 10, height: 10 }])
  })

  it('refuses what it cannot decode', () => {
    expect(() => decodePng(Buffer.from('not a png'))).toThrow()
  })
})

describe('transform planning (Cockpit\'s modes)', () => {
  const source = { width: 64, height: 32 }
  it('one dimension is enough: the aspect ratio gives the other', () => {
    expect(planTransform(source, 32, null, 'thumbnail')).toMatchObject({ width: 32, height: 16 })
    expect(planTransform(source, null, 8, 'thumbnail')).toMatchObject({ width: 16, height: 8 })
  })

  it('thumbnail fills the box and cuts the centre; resize distorts; bestFit never enlarges', () => {
    expect(planTransform(source, 16, 16, 'thumbnail')).toEqual({ width: 16, height: 16, crop: { left: 16, top: 0, width: 32, height: 32 } })
    expect(planTransform(source, 16, 16, 'resize')).toEqual({ width: 16, height: 16, crop: { left: 0, top: 0, width: 64, height: 32 } })
    expect(planTransform(source, 16, 16, 'bestFit')).toMatchObject({ width: 16, height: 8 })
    expect(planTransform(source, 800, 600, 'bestFit')).toMatchObject({ width: 64, height: 32 })
    expect(planTransform(source, 16, 99, 'fitToWidth')).toMatchObject({ width: 16, height: 8 })
    expect(planTransform(source, 99, 8, 'fitToHeight')).toMatchObject({ width: 16, height: 8 })
  })

  it('negative and absurd sizes plan nothing (the route answers 500)', () => {
    expect(planTransform(source, -1, null, 'thumbnail')).toBeNull()
    expect(planTransform(source, 99999, null, 'thumbnail')).toBeNull()
    expect(planTransform(source, 4096, 4096, 'resize')).not.toBeNull()
    expect(4097 * 4096).toBeGreaterThan(MAX_OUTPUT_PIXELS)
    expect(planTransform(source, 4097, 4096, 'resize')).toBeNull()
  })

  it('w/h are read with intval: abc and 0 are missing, original is the source size; unknown modes are thumbnail', () => {
    expect(readDimension('abc', 64)).toBeNull()
    expect(readDimension('0', 64)).toBeNull()
    expect(readDimension('original', 64)).toBe(64)
    expect(readDimension('-1', 64)).toBe(-1)
    expect(readResizeMode('bogus')).toBe('thumbnail')
    expect(readResizeMode('bestFit')).toBe('bestFit')
  })
})

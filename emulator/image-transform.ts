import { cropImage, decodePng, encodePng, resizeNearest } from './png'
import { phpIntval } from './params'

/** Cockpit's resize modes (SimpleImage); anything else counts as `thumbnail`. */
export type ResizeMode = 'thumbnail' | 'bestFit' | 'resize' | 'fitToWidth' | 'fitToHeight'

const MODES: readonly ResizeMode[] = ['thumbnail', 'bestFit', 'resize', 'fitToWidth', 'fitToHeight']

/**
 * Largest output the emulator renders. GD fails on `w=99999` by running out of memory; the
 * emulator answers the same 500 from this size on, so that no test can make it allocate gigabytes.
 */
export const MAX_OUTPUT_PIXELS = 4096 * 4096

/** The image formats Cockpit's `mime` parameter honours. */
export const HONOURED_FORMATS = ['jpeg', 'png', 'gif', 'webp', 'avif', 'bmp'] as const

/** `m=…` → a mode; unknown values → `thumbnail`, as observed. */
export function readResizeMode(value: unknown): ResizeMode {
  return MODES.find(mode => mode === value) ?? 'thumbnail'
}

/**
 * `w=`/`h=` as Cockpit reads them: `intval`, so `abc` and `0` are missing (`null`); `original` is
 * the source size; negatives stay (and fail later, like GD).
 */
export function readDimension(value: unknown, original: number): number | null {
  if (value === 'original') return original
  const number = phpIntval(value)
  return number === 0 ? null : number
}

/** What a transform produces: the output size and the source region it is scaled from. */
export interface TransformPlan {
  width: number
  height: number
  crop: { left: number, top: number, width: number, height: number }
}

/**
 * Plans a resize of a `source`-sized image, or returns `null` when GD would fail (a negative or
 * absurd size: the caller answers 500). One of `width`/`height` may be `null`: the aspect ratio
 * fills it in.
 */
export function planTransform(source: { width: number, height: number }, width: number | null, height: number | null, mode: ResizeMode): TransformPlan | null {
  if ((width !== null && width < 0) || (height !== null && height < 0)) return null
  const ratio = source.width / source.height
  const w = width ?? Math.max(1, Math.round(height! * ratio))
  const h = height ?? Math.max(1, Math.round(width! / ratio))
  const whole = { left: 0, top: 0, width: source.width, height: source.height }
  let plan: TransformPlan
  if (mode === 'resize') plan = { width: w, height: h, crop: whole }
  else if (mode === 'fitToWidth') plan = { width: w, height: Math.max(1, Math.round(w / ratio)), crop: whole }
  else if (mode === 'fitToHeight') plan = { width: Math.max(1, Math.round(h * ratio)), height: h, crop: whole }
  else if (mode === 'bestFit') {
    // SimpleImage's bestFit never enlarges an image that already fits
    const scale = Math.min(1, w / source.width, h / source.height)
    plan = { width: Math.max(1, Math.round(source.width * scale)), height: Math.max(1, Math.round(source.height * scale)), crop: whole }
  }
  else {
    // thumbnail: cover the target box, then cut the centre out
    const cropWidth = Math.min(source.width, Math.round(source.height * w / h))
    const cropHeight = Math.min(source.height, Math.round(source.width * h / w))
    plan = {
      width: w,
      height: h,
      crop: { left: Math.floor((source.width - cropWidth) / 2), top: Math.floor((source.height - cropHeight) / 2), width: Math.max(1, cropWidth), height: Math.max(1, cropHeight) },
    }
  }
  return plan.width * plan.height > MAX_OUTPUT_PIXELS ? null : plan
}

/**
 * Renders a plan on PNG bytes: a real nearest-neighbour resize, encoded as an RGBA PNG. Other
 * output formats are served as these PNG bytes (a documented difference from Cockpit).
 */
export function renderTransform(png: Uint8Array, plan: TransformPlan): Buffer {
  const source = decodePng(png)
  const { left, top, width, height } = plan.crop
  const region = left === 0 && top === 0 && width === source.width && height === source.height ? source : cropImage(source, left, top, width, height)
  return encodePng(resizeNearest(region, plan.width, plan.height))
}

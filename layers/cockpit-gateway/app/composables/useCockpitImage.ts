import type { CockpitImageFit, CockpitImageFormat } from '../../shared/internal/cockpit-image'

/** Options of one image URL; every value must be in the gateway's allow-lists (`images.*` config), or it answers 400. */
export interface CockpitImageOptions {
  /** `w`: one of `images.widths`. */
  width?: number
  /** `h`: one of `images.heights`. */
  height?: number
  /** `fit`: one of `images.fits`. @default Cockpit's `thumbnail` */
  fit?: CockpitImageFit
  /** `q`: one of `images.qualities`. @default Cockpit's */
  quality?: number
  /** `format`: one of `images.formats`. @default the source's format */
  format?: CockpitImageFormat
}

/**
 * Builds URLs of the gateway's image route for templates, prerendered pages included (a URL is plain
 * text: nothing is fetched here, and no key is involved).
 * @example
 * const image = useCockpitImage()
 * // <img :src="image.url(id, { width: 640 })" :srcset="image.srcset(id, [320, 640, 960])">
 */
export function useCockpitImage() {
  const routes = useCockpitRoutes()
  const url = (id: string, options: CockpitImageOptions = {}) => {
    const query = new URLSearchParams()
    if (options.width !== undefined) query.set('w', String(options.width))
    if (options.height !== undefined) query.set('h', String(options.height))
    if (options.fit) query.set('fit', options.fit)
    if (options.quality !== undefined) query.set('q', String(options.quality))
    if (options.format) query.set('format', options.format)
    return `${routes.image(id)}?${query}`
  }
  const srcset = (id: string, widths: readonly number[], options: Omit<CockpitImageOptions, 'width'> = {}) =>
    widths.map(width => `${url(id, { ...options, width })} ${width}w`).join(', ')
  return { url, srcset }
}

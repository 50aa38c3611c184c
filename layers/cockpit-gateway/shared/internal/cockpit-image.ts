/** Image formats the gateway may ask Cockpit's image API for (`format`). */
export type CockpitImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'avif'

/** Cockpit's resize modes (`fit`, Cockpit's `m`). */
export type CockpitImageFit = 'thumbnail' | 'bestFit' | 'resize' | 'fitToWidth' | 'fitToHeight'

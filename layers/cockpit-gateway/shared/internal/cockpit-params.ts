import { z } from 'zod'
import { COCKPIT_NAME_PATTERN } from './cockpit-name'

/** A route param or body field holding a Cockpit name ({@link COCKPIT_NAME_PATTERN}). */
export const cockpitNameSchema = z.string().regex(COCKPIT_NAME_PATTERN, 'Letters, digits, _ and - only (1 to 64)')

/** Route params of `items/:model`. */
export const modelParamsSchema = z.object({ model: cockpitNameSchema })

/** Route params of `items/:model/:id`. */
export const itemParamsSchema = z.object({ model: cockpitNameSchema, id: cockpitNameSchema })

/** Parsed `items/:model` params. */
export type ModelParams = z.infer<typeof modelParamsSchema>

/** Parsed `items/:model/:id` params. */
export type ItemParams = z.infer<typeof itemParamsSchema>

/** Route params of `singletons/:name`. */
export const singletonParamsSchema = z.object({ name: cockpitNameSchema })

/** Parsed `singletons/:name` params. */
export type SingletonParams = z.infer<typeof singletonParamsSchema>

/** Route params of `images/:id` and `assets/:id`: a Cockpit asset id (24 hex), checked before any upstream call. */
export const assetParamsSchema = z.object({ id: z.string().regex(/^[0-9a-f]{24}$/, 'A Cockpit asset id (24 hex digits)') })

/** Parsed `images/:id` / `assets/:id` params. */
export type AssetParams = z.infer<typeof assetParamsSchema>

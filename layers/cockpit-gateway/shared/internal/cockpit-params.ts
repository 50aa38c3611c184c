import { z } from 'zod'

const segment = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Letters, digits, _ and - only (1 to 64)')

/** Route params of `items/:model`. */
export const modelParamsSchema = z.object({ model: segment })

/** Route params of `items/:model/:id`. */
export const itemParamsSchema = z.object({ model: segment, id: segment })

/** Parsed `items/:model` params. */
export type ModelParams = z.infer<typeof modelParamsSchema>

/** Parsed `items/:model/:id` params. */
export type ItemParams = z.infer<typeof itemParamsSchema>

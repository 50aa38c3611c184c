import { z } from 'zod'

/** Route params of `forms/:name` and `forms/:name/token`. */
export const formParamsSchema = z.object({ name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Letters, digits, _ and - only (1 to 64)') })

/** Parsed `forms/:name` params. */
export type FormParams = z.infer<typeof formParamsSchema>

import { z } from 'zod'
import { cockpitNameSchema } from './cockpit-params'

/** Route params of `forms/:name` and `forms/:name/token`. */
export const formParamsSchema = z.object({ name: cockpitNameSchema })

/** Parsed `forms/:name` params. */
export type FormParams = z.infer<typeof formParamsSchema>

import { createError, getRouterParams } from 'h3'
import type { H3Event } from 'h3'
import type { z } from 'zod'
import { toGatewayIssues } from './gateway-body'

/**
 * Route params validated by a schema; 400 `INVALID_PARAMS` otherwise (e.g. `..`, `%2F`, dots).
 * @param event the request
 * @param schema the params schema
 */
export function readGatewayParams<S extends z.ZodType>(event: H3Event, schema: S): z.infer<S> {
  const result = schema.safeParse(getRouterParams(event, { decode: true }))
  if (!result.success) throw createError({ statusCode: 400, statusMessage: 'Invalid path', data: { code: 'INVALID_PARAMS', issues: toGatewayIssues(result.error) } })
  return result.data
}

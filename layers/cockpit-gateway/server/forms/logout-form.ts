import type { H3Event } from 'h3'
import { z } from 'zod'
import { getGatewayBodyKind, readGatewayBody } from '../guards/gateway-body'
import { getSafeRedirectPath } from '../login/gateway-login'

/** Body of a logout form post: where to go afterwards (a same-site path; anything else means `/`). */
export const logoutFormSchema = z.object({ redirect: z.string().max(2048).optional() }).strict()

/** A parsed logout form body. */
export type LogoutForm = z.infer<typeof logoutFormSchema>

/**
 * For an urlencoded logout post (an HTML form, which the guard only lets through same-origin): the
 * same-site path to send the browser to. `null` for any other request, whose body is not read.
 * @param event the request
 */
export async function readLogoutFormTarget(event: H3Event): Promise<string | null> {
  if (getGatewayBodyKind(event) !== 'form') return null
  const { data } = await readGatewayBody(event, logoutFormSchema, { form: true })
  return getSafeRedirectPath(data.redirect, '/')
}

import { sendRedirect } from 'h3'
import { loginSchema } from '../../../shared/internal/cockpit-login'
import { getGatewayBodyKind, readGatewayBody } from '../../guards/gateway-body'
import { getSafeRedirectPath, loginWithPassword, sendLoginFormFailure } from '../../login/gateway-login'

export default defineEventHandler(async (event) => {
  // An HTML form post gets redirects (success and failure alike); JSON callers get JSON.
  const form = getGatewayBodyKind(event) === 'form'
  let redirect: string | undefined
  let username: string | undefined
  try {
    const { data } = await readGatewayBody(event, loginSchema, { form: true })
    redirect = data.redirect
    username = data.username
    const user = await loginWithPassword(event, data.username, data.password)
    return form ? sendRedirect(event, getSafeRedirectPath(redirect), 303) : { user }
  }
  catch (error) {
    if (form) return sendLoginFormFailure(event, error, redirect, username)
    throw error
  }
})

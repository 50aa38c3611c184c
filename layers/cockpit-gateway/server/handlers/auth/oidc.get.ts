import { deleteCookie, getCookie, getQuery, sendRedirect } from 'h3'
import type { H3Event } from 'h3'
import { useGatewayConfig } from '../../config/gateway-config'
import { mapOidcClaimsToUser } from '../../login/identity-providers'
import { startGatewaySession } from '../../session/gateway-session'
import { getGatewayClientIp } from '../../client-address/client-ip'
import { getSafeRedirectPath } from '../../login/gateway-login'

/** The cookies nuxt-auth-utils sets when a login starts and compares on the callback. */
const FLOW_COOKIES = ['nuxt-auth-state', 'nuxt-auth-pkce', 'nuxt-auth-nonce']

function sendOidcFailure(event: H3Event, outcome: string) {
  const config = useGatewayConfig(event)
  console.warn(`[cockpit-gateway] login failed provider=oidc ip=${getGatewayClientIp(event, config.trustProxy)} outcome=${outcome}`)
  return sendRedirect(event, `${getSafeRedirectPath(config.auth.loginPage)}?error=OIDC_FAILED`, 302)
}

// Built per request: nuxt-auth-utils merges the runtime config into its closure on every call, and defu
// concatenates arrays, so a shared handler would add one more `openid` to the scope with each login.
const createOidcHandler = () => defineOAuthOidcEventHandler({
  async onSuccess(event, { user: claims }) {
    const config = useGatewayConfig(event)
    const user = mapOidcClaimsToUser(config, claims as unknown as Record<string, unknown>)
    await startGatewaySession(event, user)
    console.info(`[cockpit-gateway] login ok provider=oidc id=${JSON.stringify(user.id.slice(0, 80))} role=${user.role} ip=${getGatewayClientIp(event, config.trustProxy)}`)
    return sendRedirect(event, '/', 302)
  },
  onError(event) {
    return sendOidcFailure(event, 'rejected')
  },
})

/**
 * OIDC login (authorization code + PKCE, through nuxt-auth-utils): configure `NUXT_OAUTH_OIDC_CLIENT_ID`,
 * `NUXT_OAUTH_OIDC_CLIENT_SECRET`, `NUXT_OAUTH_OIDC_OPENID_CONFIG` (the issuer's discovery URL) and
 * `NUXT_OAUTH_OIDC_REDIRECT_URL`. The role comes from the claim `auth.oidcRoleClaim`, mapped by `auth.roleMap`.
 * Every failure sends the browser to the login page with `?error=OIDC_FAILED`.
 */
export default defineEventHandler(async (event) => {
  const query = getQuery(event)
  // nuxt-auth-utils compares state, PKCE verifier and nonce with its cookies without requiring them: a
  // callback with no state, in a browser that never started a login, would pass (login CSRF with a code
  // the attacker obtained for their own account).
  if (query.code !== undefined && (typeof query.state !== 'string' || !query.state || FLOW_COOKIES.some(name => !getCookie(event, name)))) {
    for (const name of FLOW_COOKIES) deleteCookie(event, name, { path: '/' })
    return sendOidcFailure(event, 'no-login-in-progress')
  }
  try {
    return await createOidcHandler()(event)
  }
  catch {
    // Discovery, token or userinfo call failed, or the claims are unusable: the login page, never a 500.
    return sendOidcFailure(event, 'provider-error')
  }
})

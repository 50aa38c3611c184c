import { sendRedirect } from 'h3'

/**
 * OIDC login (authorization code + PKCE, through nuxt-auth-utils): configure `NUXT_OAUTH_OIDC_CLIENT_ID`,
 * `NUXT_OAUTH_OIDC_CLIENT_SECRET`, `NUXT_OAUTH_OIDC_OPENID_CONFIG` (the issuer's discovery URL) and
 * `NUXT_OAUTH_OIDC_REDIRECT_URL`. The role comes from the claim `auth.oidcRoleClaim`, mapped by `auth.roleMap`.
 */
export default defineOAuthOidcEventHandler({
  async onSuccess(event, { user: claims }) {
    const user = mapOidcClaimsToUser(useGatewayConfig(event), claims)
    await startGatewaySession(event, user)
    console.info(`[cockpit-gateway] login ok provider=oidc id=${JSON.stringify(user.id.slice(0, 80))} role=${user.role}`)
    return sendRedirect(event, '/', 302)
  },
  onError(event) {
    console.warn('[cockpit-gateway] login failed provider=oidc outcome=rejected')
    return sendRedirect(event, `${getSafeRedirectPath(useGatewayConfig(event).auth.loginPage)}?error=OIDC_FAILED`, 302)
  },
})

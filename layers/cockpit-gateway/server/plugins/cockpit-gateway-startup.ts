import { useRuntimeConfig } from 'nitropack/runtime'
import { useGatewayConfig } from '../config/gateway-config'

/**
 * Fails fast at start-up on configuration that would only fail later, per request: invalid options, a
 * missing or short session password, or a `__Host-` cookie that is not Secure (browsers would drop it).
 * Prerendering only reads public content, so it needs none of this.
 */
export default defineNitroPlugin(() => {
  if (import.meta.prerender) return
  useGatewayConfig()
  const { session } = useRuntimeConfig()
  const password = process.env.NUXT_SESSION_PASSWORD || session.password
  if (!password || String(password).length < 32) {
    throw new Error('[cockpit-gateway] NUXT_SESSION_PASSWORD must be set to at least 32 characters')
  }
  if (String(session.name).startsWith('__Host-') && session.cookie?.secure === false) {
    throw new Error('[cockpit-gateway] a __Host- session cookie must be Secure: set NUXT_SESSION_NAME to a name without the prefix for plain-http use')
  }
})

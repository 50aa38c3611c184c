import { useRuntimeConfig } from 'nitropack/runtime'
import { findPublicConfigLeaks } from '../../modules/leak/public-config'
import { collectGatewaySecrets } from '../../modules/leak/secrets'

/**
 * Refuses to start when a secret sits in the public runtime config, which every page sends to the browser.
 * The build checks the config it was given, but env vars applied at run time (`NUXT_PUBLIC_…=<a key>`)
 * can still put one there. The message names the public path and the setting, never the value.
 */
export default defineNitroPlugin(() => {
  const config = useRuntimeConfig()
  const { secrets } = collectGatewaySecrets(config, typeof process === 'undefined' ? {} : process.env)
  const leaks = findPublicConfigLeaks(config.public, secrets)
  if (leaks.length) {
    throw new Error(`[cockpit-gateway] refusing to start: ${leaks.map(leak => `${leak.path} holds the value of ${leak.setting}`).join('; ')} (check the NUXT_PUBLIC_* env vars)`)
  }
})

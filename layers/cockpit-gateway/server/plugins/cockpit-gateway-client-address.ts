import { recordGatewaySocketAddress } from '../client-address/client-ip'

/**
 * Keeps each request's socket address in its context, so that the internal requests a page render makes
 * (its `useFetch` calls to the gateway) are rate-limited as the same client instead of an unknown one.
 */
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('request', recordGatewaySocketAddress)
})

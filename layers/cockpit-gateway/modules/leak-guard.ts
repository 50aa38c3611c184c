import { join, relative } from 'node:path'
import { defineNuxtModule, useLogger } from '@nuxt/kit'
import type { Nitro } from 'nitropack/types'
import { findPrivateLookingPublicKeys, findPublicConfigLeaks } from './leak/public-config'
import { findSecretLeaks, findSecretsInContents } from './leak/scan'
import { collectGatewaySecrets, MIN_SECRET_LENGTH } from './leak/secrets'

/** Options of the leak guard, under `cockpitGatewayLeakGuard` in `nuxt.config`. */
export interface LeakGuardOptions {
  /**
   * Public runtime config paths named like a private setting that are public on purpose (e.g.
   * `runtimeConfig.public.algolia.apiKey`, a search-only key). They are still checked for the gateway's secrets.
   * @default []
   */
  allowPublicKeys: string[]
}

/**
 * Fails a build that would publish one of the gateway's secrets: before building, when the public runtime
 * config holds one (or an entry named like one); after building, when any file under the public output
 * (assets, prerendered pages, payloads) or the serialized public config holds one. Reports name the file
 * or config path and the setting, never the value.
 */
export default defineNuxtModule<LeakGuardOptions>({
  meta: { name: 'cockpit-gateway:leak-guard', configKey: 'cockpitGatewayLeakGuard' },
  defaults: { allowPublicKeys: [] },
  setup(options, nuxt) {
    const logger = useLogger('cockpit-gateway')
    const readSecrets = () => collectGatewaySecrets(nuxt.options.runtimeConfig, process.env)

    // After every module, so public config that later modules add is checked too; still before any build.
    nuxt.hook('modules:done', () => {
      const { secrets } = readSecrets()
      const problems = [
        ...findPublicConfigLeaks(nuxt.options.runtimeConfig.public, secrets)
          .map(leak => `${leak.path} holds the value of ${leak.setting}`),
        ...findPrivateLookingPublicKeys(nuxt.options.runtimeConfig.public, options.allowPublicKeys)
          .map(path => `${path} is named like a private setting (list it in cockpitGatewayLeakGuard.allowPublicKeys if it is public on purpose)`),
      ]
      if (problems.length) {
        throw new Error(`[cockpit-gateway] runtimeConfig.public is sent to every browser, but:\n${problems.map(p => `  - ${p}`).join('\n')}\nMove these to the private runtimeConfig.`)
      }
    })

    if (nuxt.options.dev) return
    nuxt.hook('nitro:init', (nitro) => {
      // `compiled` of the main Nitro instance is the last step of `nuxt build` and `nuxt generate`: it runs
      // after prerendering wrote its pages and after the client assets were copied into the public dir.
      nitro.hooks.hook('compiled', async (built: Nitro) => {
        if (built.options.preset === 'nitro-prerender') return
        const { secrets, skipped } = readSecrets()
        for (const setting of skipped) logger.warn(`Leak check skips ${setting}: shorter than ${MIN_SECRET_LENGTH} characters, too short to search for`)
        const publicDir = built.options.output.publicDir
        const leaks = [
          ...(await findSecretLeaks(publicDir, secrets))
            .map(leak => ({ file: relative(nuxt.options.rootDir, join(publicDir, leak.file)), setting: leak.setting })),
          ...findSecretsInContents(JSON.stringify(built.options.runtimeConfig.public ?? {}), secrets)
            .map(setting => ({ file: 'runtimeConfig.public', setting })),
        ]
        if (leaks.length) {
          throw new Error(`[cockpit-gateway] Secret leak: the build output holds private settings (values not shown):\n${leaks.map(leak => `  - ${leak.file}: ${leak.setting}`).join('\n')}\nDo not deploy this output: remove whatever renders these settings into public files.`)
        }
        logger.success(`Leak check: no secret in ${relative(nuxt.options.rootDir, publicDir) || '.'} (${secrets.length} secret${secrets.length === 1 ? '' : 's'} checked)`)
      })
    })
  },
})

// The demo: a small blog on Cockpit's `posts`, extending the gateway layer as any app would.

// Builds for tests may go to a folder of their own (several side by side): DEMO_OUTPUT_DIR.
const outputDir = process.env.DEMO_OUTPUT_DIR

export default defineNuxtConfig({
  // Beside the output, not in it: Nitro empties its output folder before writing.
  ...(outputDir ? { buildDir: `${outputDir}-nuxt` } : {}),
  extends: ['./layers/cockpit-gateway'],
  compatibilityDate: '2025-07-15',
  modules: ['@nuxt/eslint'],
  css: ['~/assets/main.css'],
  app: {
    head: { htmlAttrs: { lang: 'en' }, title: 'Cockpit gateway demo' },
  },
  routeRules: {
    // Public pages are built from Cockpit data at build time; the key is used only by the build's server code.
    '/': { prerender: true },
    '/posts/**': { prerender: true },
    '/login': { prerender: true },
    // Editor pages depend on the session: rendered in the browser only.
    '/posts/new': { prerender: false, ssr: false },
    '/posts/*/edit': { prerender: false, ssr: false },
  },
  nitro: {
    prerender: { crawlLinks: true, failOnError: true, routes: ['/'] },
    ...(outputDir ? { output: { dir: outputDir } } : {}),
  },
  eslint: { config: { stylistic: true } },
})

// The demo: a small blog on Cockpit's `posts`, extending the gateway layer as any app would.
export default defineNuxtConfig({
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
  },
  eslint: { config: { stylistic: true } },
})

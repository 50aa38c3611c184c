// The demo: a small blog on Cockpit's `posts`, extending the gateway layer as any app would.

// Builds for tests may go to a folder of their own (several side by side): DEMO_OUTPUT_DIR.
const outputDir = process.env.DEMO_OUTPUT_DIR
// The deploy target (`NITRO_PRESET=cloudflare_module npm run build`); see docs/deploy.md.
const preset = process.env.NITRO_PRESET ?? ''

export default defineNuxtConfig({
  // Beside the output, not in it: Nitro empties its output folder before writing.
  ...(outputDir ? { buildDir: `${outputDir}-nuxt` } : {}),
  extends: ['./layers/cockpit-gateway'],
  modules: ['@nuxt/eslint'],
  app: {
    head: { htmlAttrs: { lang: 'en' }, title: 'Cockpit gateway demo' },
  },
  css: ['~/assets/main.css'],
  runtimeConfig: {
    public: {
      /** Asset id of the image the About page shows through the image route (`NUXT_PUBLIC_DEMO_IMAGE_ID`); `npm start` fills it from the embedded Cockpit. */
      demoImageId: '',
    },
  },
  routeRules: {
    // Public pages are built from Cockpit data at build time; the key is used only by the build's server code.
    // Post pages are prerendered by following the list's links (crawlLinks), not by a `/posts/**` rule: with
    // such a rule the browser would also ask for `_payload.json` of posts added after the build (404s, and
    // router warnings on the server); now it asks only for those in the build's manifest, and any other post
    // path is rendered at run time (404 for one that is missing or unpublished).
    '/': { prerender: true },
    // Rendered per request, never stored by a cache: they show the session (and carry its form token).
    // /login: a failed no-JavaScript login is sent back here with `?error=` to explain.
    '/login': { prerender: false, headers: { 'cache-control': 'no-store' } },
    '/account': { prerender: false, headers: { 'cache-control': 'no-store' } },
    '/posts/new': { prerender: false, headers: { 'cache-control': 'no-store' } },
    '/posts/*/edit': { prerender: false, headers: { 'cache-control': 'no-store' } },
    // Rendered per request so its form works without JavaScript: the server embeds a fresh submission token
    // (a prerendered one would expire); the thank-you page holds nothing and is prerendered.
    '/contact': { prerender: false, headers: { 'cache-control': 'no-store' } },
    '/contact/thanks': { prerender: true },
    '/settings': { prerender: false, headers: { 'cache-control': 'no-store' } },
    // Rendered per request: the demo image's asset id is run-time config (the embedded Cockpit makes a new one per start).
    '/about': { prerender: false },
  },
  compatibilityDate: '2025-07-15',
  nitro: {
    prerender: { crawlLinks: true, failOnError: true, routes: ['/'] },
    // Netlify's preset puts the public files in `<rootDir>/dist`: keep them with the rest of this build.
    ...(outputDir ? { output: { dir: outputDir, ...(preset.startsWith('netlify') ? { publicDir: `${outputDir}/dist` } : {}) } } : {}),
    // Workers have no file system for Nitro's `data` mount: session revocation and owner records go to
    // the KV namespace bound as GATEWAY_STATE (rate limits and the read cache stay per isolate).
    ...(preset.startsWith('cloudflare') ? { storage: { 'cockpit-gateway:state': { driver: 'cloudflare-kv-binding', binding: 'GATEWAY_STATE' } } } : {}),
  },
  eslint: { config: { stylistic: true } },
})

import { createResolver } from '@nuxt/kit'

const { resolve } = createResolver(import.meta.url)

/**
 * cockpit-gateway: the only thing that talks to Cockpit. Secrets are empty here and filled at run time
 * by `NUXT_*` env vars; every option is documented in the README's configuration table.
 */
export default defineNuxtConfig({
  modules: ['nuxt-auth-utils', resolve('./modules/cockpit-gateway'), resolve('./modules/leak-guard')],

  runtimeConfig: {
    cockpit: {
      /** Base URL of Cockpit (`NUXT_COCKPIT_URL`). */
      url: '',
      /** `2` (Cockpit-HQ) or `1` (agentejo legacy) (`NUXT_COCKPIT_VERSION`). */
      version: 2,
      /** Key for reads (`NUXT_COCKPIT_READ_KEY`): a read-only role (v2) or special key (v1). */
      readKey: '',
      /** Default key for writes (`NUXT_COCKPIT_WRITE_KEY`): scoped to the models' write permissions. */
      writeKey: '',
      /** Per-role write keys, JSON `{"editor":"…"}` (`NUXT_COCKPIT_ROLE_KEYS`); a role listed here never uses `writeKey`. */
      roleKeys: {} as Record<string, string>,
      /** v1 only: a key that may call `/api/cockpit/authUser` (`NUXT_COCKPIT_AUTH_KEY`). */
      authKey: '',
      /**
       * Key public form submissions are stored with (`NUXT_COCKPIT_SUBMIT_KEY`): v2 an API key whose role may only
       * create items of the forms' models (like the seed's `submitter`); v1 a key that reaches `/api/forms/submit/<form>`
       * (a special key with only that rule). Never the write key: when empty, submissions fail with 500 `MISSING_KEY`.
       */
      submitKey: '',
      /** Key for image and asset reads (`NUXT_COCKPIT_ASSET_KEY`); empty = the read key. v1 needs an account key here (its special keys never reach `/api/cockpit/*`). */
      assetKey: '',
      /** Per upstream call, ms (`NUXT_COCKPIT_TIMEOUT`). */
      timeout: 5000,
      /** Upstream calls in flight at once per instance; 0 = no cap (`NUXT_COCKPIT_MAX_CONCURRENT`). */
      maxConcurrent: 64,
      /** Calls that may wait for a slot; beyond it 503 `UPSTREAM_BUSY` (`NUXT_COCKPIT_QUEUE_SIZE`). */
      queueSize: 128,
      /** Longest wait for a slot, ms, then 503 `UPSTREAM_BUSY` (`NUXT_COCKPIT_QUEUE_TIMEOUT`). */
      queueTimeout: 1000,
      /** Consecutive upstream failures (no answer, 502/503/504) that open the circuit; 0 = never (`NUXT_COCKPIT_BREAKER_THRESHOLD`). */
      breakerThreshold: 5,
      /** How long an open circuit fails fast (503 `UPSTREAM_CIRCUIT_OPEN`) before one probe, ms (`NUXT_COCKPIT_BREAKER_COOL_DOWN`). */
      breakerCoolDown: 5000,
    },
    cockpitGateway: {
      /** Extra allowed origins for state-changing requests, comma-separated (`NUXT_COCKPIT_GATEWAY_SITE_ORIGINS`); the request's own origin is always allowed. */
      siteOrigins: '',
      /**
       * `false` | hop count | CIDR list | `cf-connecting-ip` | `x-real-ip` | `x-nf-client-connection-ip` (`NUXT_COCKPIT_GATEWAY_TRUST_PROXY`).
       * Typed by its default: Nuxt 4.6 checks every config's `runtimeConfig` against the type it generates
       * from the merged defaults, so a wider type here fails `nuxt typecheck`; the server parses whatever is set.
       */
      trustProxy: false,
      /** Redis URL for rate limits, cache and session state across instances (`NUXT_COCKPIT_GATEWAY_REDIS_URL`). */
      redisUrl: '',
      /** Cloudflare (`cloudflare_module`) only: name of the worker's Durable Object binding to the layer's `CockpitGatewayState` class; when set, rate limits and session state (`rate-limit`, `state`) move to it, exact and immediate across isolates (`NUXT_COCKPIT_GATEWAY_DURABLE_OBJECT_BINDING`). Empty: per-isolate limits, `state` where `nitro.storage` mounts it. */
      durableObjectBinding: '',
      /** After a store (Redis) call fails, ms during which that store is not waited on again: fail-open reads skip it, fail-closed paths answer 503 at once; one call per interval probes it, and a Redis connection that is ready again ends it at once (`NUXT_COCKPIT_GATEWAY_STORE_RETRY_INTERVAL`). `0` waits on every call. */
      storeRetryInterval: 2000,
      /** Shared secret of `POST /api/cockpit/webhook` (`NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET`); empty disables it. */
      webhookSecret: '',
      audit: {
        /** Print each audit record (logins, logouts, writes, refusals, upstream failures) as one JSON line on stdout (`NUXT_COCKPIT_GATEWAY_AUDIT_STDOUT`); the `cockpit-gateway:audit` hook gets them either way. */
        stdout: true,
      },
      auth: {
        /** `cockpit` | `local` | `oidc` (`NUXT_COCKPIT_GATEWAY_AUTH_PROVIDER`). */
        provider: 'cockpit',
        /** Absolute session lifetime in seconds (`NUXT_COCKPIT_GATEWAY_AUTH_MAX_AGE`). */
        maxAge: 8 * 60 * 60,
        /** Idle timeout in seconds, sliding (`NUXT_COCKPIT_GATEWAY_AUTH_IDLE_TIMEOUT`). */
        idleTimeout: 30 * 60,
        /** How stale `lastSeenAt` may get before the cookie is resealed, seconds; capped at a quarter of the idle timeout. */
        refreshInterval: 60,
        /** How long a user's revocation state is trusted in memory, ms, at most 1000: a logout on another instance takes effect within this bound (this instance's own at once). */
        revocationCheckInterval: 1000,
        /** Cockpit role (v2) or group (v1) → gateway role, JSON (`NUXT_COCKPIT_GATEWAY_AUTH_ROLE_MAP`). Unlisted → `guest`. */
        roleMap: { admin: 'admin', editor: 'editor' } as Record<string, string>,
        /** `local` provider users, JSON `[{"username","name","role","passwordHash"}]` (`NUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS`). */
        localUsers: '',
        /** OIDC claim holding the role (`NUXT_COCKPIT_GATEWAY_AUTH_OIDC_ROLE_CLAIM`). */
        oidcRoleClaim: 'role',
        /** Minimum duration of a failed login in ms, so unknown user and wrong password take alike. */
        failureDelay: 400,
        /** The app's login page: form posts that fail are sent back here with `?error=`. */
        loginPage: '/login',
      },
      rateLimit: {
        /** Failed login attempts per client IP (successes are given back). */
        login: { limit: 10, window: 15 * 60, failOpen: false },
        /**
         * Failed logins per account (per device for a client holding the account's device cookie): `limit` free
         * failures, then a wait of `delay` seconds before the next attempt, doubling after each failure up to
         * `maxDelay`; forgotten `window` seconds after the last wait ended. Successes are given back.
         */
        loginUser: { limit: 5, window: 15 * 60, failOpen: false, delay: 1, maxDelay: 15 * 60 },
        /** Writes per user. */
        write: { limit: 60, window: 60, failOpen: false },
        /** Reads per client IP (or user when logged in). */
        read: { limit: 300, window: 60, failOpen: true },
        /** Public form submissions per client IP and form (honeypot hits and refused tokens count too). */
        submit: { limit: 5, window: 10 * 60, failOpen: false },
        /** Public form submissions per form, from every client together: a ceiling on what a botnet can store. */
        submitForm: { limit: 200, window: 60 * 60, failOpen: false },
      },
      forms: {
        /** Seconds a visitor must take between fetching a form's token and sending the form (`NUXT_COCKPIT_GATEWAY_FORMS_MIN_SUBMIT_TIME`). @default 3 */
        minSubmitTime: 3,
        /** Seconds a form token stays valid (`NUXT_COCKPIT_GATEWAY_FORMS_TOKEN_MAX_AGE`). @default 7200 */
        tokenMaxAge: 2 * 60 * 60,
        /** Largest body of a form submission, bytes (`NUXT_COCKPIT_GATEWAY_FORMS_BODY_SIZE`). @default 8192 */
        bodySize: 8 * 1024,
        captcha: {
          /** `siteverify` URL of the captcha service (Turnstile's by default; hCaptcha: `https://api.hcaptcha.com/siteverify`). @default Turnstile */
          verifyUrl: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
          /** Captcha secret (`NUXT_COCKPIT_GATEWAY_FORMS_CAPTCHA_SECRET`); empty: no captcha check. @default '' */
          secret: '',
          /** The form field holding the widget's response (`h-captcha-response` for hCaptcha). @default 'cf-turnstile-response' */
          field: 'cf-turnstile-response',
          /** ms to wait for the verifier; no answer in time fails closed (503 `CAPTCHA_UNAVAILABLE`). @default 5000 */
          timeout: 5000,
        },
      },
      cache: {
        /** Seconds a public read is fresh. */
        maxAge: 60,
        /** Seconds a stale copy may still be served (in the background refresh and when Cockpit is down). */
        staleMaxAge: 24 * 60 * 60,
        /** How often, ms (at most 1000), an instance re-reads a model's cache generation from a shared store: an invalidation by another instance shows within this bound (this instance's own at once). */
        invalidationCheckInterval: 1000,
      },
      writes: {
        /** Seconds an `Idempotency-Key` is remembered per user, with the answer it got (`NUXT_COCKPIT_GATEWAY_WRITES_IDEMPOTENCY_TTL`, 1 to 604800). */
        idempotencyTtl: 24 * 60 * 60,
      },
      // Comma-separated strings (or JSON arrays from env), not arrays: layers' defaults are merged with defu, which concatenates arrays.
      images: {
        /** Widths `w` a client may ask of `GET {prefix}/images/:id`, px (`NUXT_COCKPIT_GATEWAY_IMAGES_WIDTHS`, comma-separated). Any other width: 400 `IMAGE_OPTIONS_NOT_ALLOWED`. */
        widths: '32,64,160,320,480,640,960,1280,1920',
        /** Heights `h` a client may ask for, px (`NUXT_COCKPIT_GATEWAY_IMAGES_HEIGHTS`). */
        heights: '32,64,160,320,480,640,960,1280,1920',
        /** Qualities `q` a client may ask for (`NUXT_COCKPIT_GATEWAY_IMAGES_QUALITIES`); without `q` Cockpit's default applies. */
        qualities: '60,80,90',
        /** Output formats `format` (`png`, `jpeg`, `webp`, `gif`, `avif`) (`NUXT_COCKPIT_GATEWAY_IMAGES_FORMATS`); without `format` the source's format. */
        formats: 'png,jpeg,webp',
        /** Resize modes `fit` (Cockpit's `m`: `thumbnail`, `bestFit`, `resize`, `fitToWidth`, `fitToHeight`) (`NUXT_COCKPIT_GATEWAY_IMAGES_FITS`). */
        fits: 'thumbnail,bestFit,fitToWidth,fitToHeight',
        /** Largest image the gateway fetches and caches, bytes (`NUXT_COCKPIT_GATEWAY_IMAGES_MAX_BYTES`). */
        maxBytes: 5 * 1024 * 1024,
      },
      limits: {
        /** Default page size of list reads. */
        defaultListLimit: 20,
        /** Largest page size a client may ask for. */
        maxListLimit: 100,
        /** Largest JSON body of a write, bytes. */
        bodySize: 64 * 1024,
      },
    },
    session: {
      name: '__Host-cockpit-session',
      password: '',
      maxAge: 8 * 60 * 60,
      // A session only ever travels in its cookie; h3 would otherwise also read it from a header.
      sessionHeader: false,
      cookie: {
        sameSite: 'lax',
        secure: true,
        httpOnly: true,
        path: '/',
      },
    },
  },

  nitro: {
    storage: {
      // Rate-limit buckets and cached reads may be lost on restart; sessions' revocation state and
      // ownership records may not, so they default to the persistent `data` mount (see plugins/storage).
      'cockpit-gateway:rate-limit': { driver: 'memory' },
      // Bounded: distinct queries must not grow memory without limit.
      'cockpit-gateway:cache': { driver: 'lru-cache', max: 1000 },
    },
  },
})

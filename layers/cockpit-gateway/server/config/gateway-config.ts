import { z } from 'zod'
import { createError } from 'h3'
import type { H3Event } from 'h3'
import { useRuntimeConfig } from 'nitropack/runtime'
import { parseTrustProxy } from '../client-address/trust-proxy'
import type { TrustProxySetting } from '../client-address/trust-proxy'

/** Runtime env values arrive as strings or destr-parsed JSON: accept both for lists and maps. */
const jsonish = <T extends z.ZodType>(schema: T) => z.preprocess((value) => {
  if (typeof value !== 'string') return value
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  try {
    return JSON.parse(trimmed)
  }
  catch {
    return value
  }
}, schema)

const rateLimitPolicySchema = z.object({
  limit: z.coerce.number().int().positive(),
  window: z.coerce.number().int().positive(),
  failOpen: z.preprocess(v => v === 'true' || v === true, z.boolean()),
})

/** The per-account login policy: `limit` free failures, then waits of `delay`, doubling up to `maxDelay`, seconds. */
const loginAccountPolicySchema = rateLimitPolicySchema.extend({
  delay: z.coerce.number().int().positive(),
  maxDelay: z.coerce.number().int().positive(),
}).refine(policy => policy.maxDelay >= policy.delay, { path: ['maxDelay'], message: 'maxDelay must be at least delay' })

const localUserSchema = z.object({
  username: z.string().min(1).max(256),
  name: z.string().max(256).optional(),
  role: z.string().min(1).max(64),
  passwordHash: z.string().min(1),
})

/** A list from config: an array, a JSON array, or a comma-separated string (env vars); duplicates dropped. */
const list = <T extends z.ZodType>(item: T, max: number) => z.preprocess((value) => {
  const items = typeof value === 'string'
    ? (value.trim().startsWith('[') ? JSON.parse(value) as unknown : value.split(',').map(entry => entry.trim()).filter(Boolean))
    : typeof value === 'number' ? [value] : value
  return Array.isArray(items) ? [...new Set(items)] : items
}, z.array(item).max(max))

/** The image route's allow-lists: only these option values ever reach Cockpit's image API. */
const imagesConfigSchema = z.object({
  widths: list(z.coerce.number().int().positive().max(10_000), 64),
  heights: list(z.coerce.number().int().positive().max(10_000), 64),
  qualities: list(z.coerce.number().int().min(1).max(100), 16),
  formats: list(z.enum(['png', 'jpeg', 'webp', 'gif', 'avif']), 5),
  fits: list(z.enum(['thumbnail', 'bestFit', 'resize', 'fitToWidth', 'fitToHeight']), 5),
  maxBytes: z.coerce.number().int().positive(),
})

const gatewayConfigSchema = z.object({
  cockpit: z.object({
    url: z.string(),
    version: z.coerce.number().pipe(z.union([z.literal(1), z.literal(2)])),
    readKey: z.string(),
    writeKey: z.string(),
    roleKeys: jsonish(z.record(z.string(), z.string()).default({})),
    authKey: z.string(),
    submitKey: z.string(),
    assetKey: z.string().default(''),
    timeout: z.coerce.number().int().positive(),
    maxConcurrent: z.coerce.number().int().min(0),
    queueSize: z.coerce.number().int().min(0),
    queueTimeout: z.coerce.number().int().positive(),
    breakerThreshold: z.coerce.number().int().min(0),
    breakerCoolDown: z.coerce.number().int().positive(),
  }),
  siteOrigins: z.preprocess(
    v => Array.isArray(v) ? v : String(v ?? '').split(',').map(s => s.trim()).filter(Boolean),
    z.array(z.url().transform(u => new URL(u).origin)),
  ),
  trustProxy: z.unknown().transform((value, ctx): TrustProxySetting => {
    try {
      return parseTrustProxy(value)
    }
    catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message })
      return z.NEVER
    }
  }),
  redisUrl: z.string(),
  // A binding name as wrangler accepts it; either this or redisUrl, never both (checked below).
  durableObjectBinding: z.string().regex(/^(?:[A-Za-z_$][\w$]*)?$/),
  storeRetryInterval: z.coerce.number().int().min(0).max(60_000),
  webhookSecret: z.string(),
  audit: z.object({
    stdout: z.union([z.boolean(), z.enum(['true', 'false']).transform(value => value === 'true')]),
  }),
  auth: z.object({
    provider: z.string().min(1),
    maxAge: z.coerce.number().int().positive(),
    idleTimeout: z.coerce.number().int().positive(),
    refreshInterval: z.coerce.number().int().nonnegative(),
    revocationCheckInterval: z.coerce.number().int().min(0).max(1000),
    roleMap: jsonish(z.record(z.string(), z.string())),
    localUsers: jsonish(z.array(localUserSchema).default([])),
    oidcRoleClaim: z.string().min(1),
    failureDelay: z.coerce.number().int().nonnegative(),
    loginPage: z.string().startsWith('/'),
  }),
  rateLimit: z.object({
    login: rateLimitPolicySchema,
    loginUser: loginAccountPolicySchema,
    write: rateLimitPolicySchema,
    read: rateLimitPolicySchema,
    submit: rateLimitPolicySchema,
    submitForm: rateLimitPolicySchema,
  }),
  forms: z.object({
    minSubmitTime: z.coerce.number().int().min(0).max(3600),
    tokenMaxAge: z.coerce.number().int().positive().max(7 * 24 * 3600),
    bodySize: z.coerce.number().int().positive(),
    captcha: z.object({
      verifyUrl: z.string().refine(url => /^https?:\/\/[^/]/i.test(url) && URL.canParse(url), 'must be an http(s) URL'),
      secret: z.string(),
      field: z.string().regex(/^[A-Za-z][\w-]{0,63}$/),
      timeout: z.coerce.number().int().positive(),
    }),
  }).refine(forms => forms.minSubmitTime < forms.tokenMaxAge, { path: ['minSubmitTime'], message: 'minSubmitTime must be below tokenMaxAge' }),
  cache: z.object({
    maxAge: z.coerce.number().int().nonnegative(),
    staleMaxAge: z.coerce.number().int().nonnegative(),
    invalidationCheckInterval: z.coerce.number().int().min(0).max(1000),
  }),
  writes: z.object({
    idempotencyTtl: z.coerce.number().int().min(1).max(7 * 24 * 60 * 60),
  }),
  images: imagesConfigSchema,
  limits: z.object({
    defaultListLimit: z.coerce.number().int().positive(),
    maxListLimit: z.coerce.number().int().positive(),
    bodySize: z.coerce.number().int().positive(),
  }).refine(limits => limits.defaultListLimit <= limits.maxListLimit, { message: 'defaultListLimit must not exceed maxListLimit', path: ['defaultListLimit'] }),
}).refine(config => !(config.redisUrl && config.durableObjectBinding), { message: 'redisUrl and durableObjectBinding exclude each other', path: ['durableObjectBinding'] })

/**
 * The gateway's validated, normalised configuration.
 * @public
 */
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>

/** A local user of the `local` identity provider. */
export type GatewayLocalUser = z.infer<typeof localUserSchema>

/**
 * Where the runtime hands Nitro its env per request: Cloudflare's bindings object, which Nitro's
 * Cloudflare entries store on `globalThis.__env__` before each request. Node, Bun and Deno read env
 * once at start-up and have none.
 */
function getRequestEnv(): object | undefined {
  const env = (globalThis as { __env__?: unknown }).__env__
  return env && typeof env === 'object' ? env : undefined
}

let startupConfig: GatewayConfig | undefined
const configByEnv = new WeakMap<object, GatewayConfig>()

/**
 * Reads and validates the gateway's runtime config once, not per request: Nitro's
 * `useRuntimeConfig(event)` clones the whole config and re-applies env on every call, which cost about
 * half the CPU of a cached read. Where env is fixed at start-up (Node, Bun, Deno) the config is parsed
 * once from Nitro's shared config; where env arrives with the request (Cloudflare bindings) it is parsed
 * once per env object, so a value set only on the platform side is still honoured. Invalid config throws
 * a 500 whose log line names the bad option (never its value: it may be a secret).
 * @param event the request (needed on runtimes whose env arrives per request)
 * @public
 */
export function useGatewayConfig(event?: H3Event): GatewayConfig {
  const env = getRequestEnv()
  if (!env || !event) return startupConfig ??= parseGatewayConfig(useRuntimeConfig())
  let config = configByEnv.get(env)
  if (!config) configByEnv.set(env, config = parseGatewayConfig(useRuntimeConfig(event)))
  return config
}

/**
 * Nitro's runtime config as this request sees it, with the same memo as {@link useGatewayConfig}: once
 * per process where env is fixed at start-up, once per env object on Cloudflare. Read-only: never mutate it.
 * @param event the request
 */
export function useGatewayRuntimeConfig(event?: H3Event): ReturnType<typeof useRuntimeConfig> {
  const env = getRequestEnv()
  if (!env || !event) return useRuntimeConfig()
  let config = runtimeConfigByEnv.get(env)
  if (!config) runtimeConfigByEnv.set(env, config = useRuntimeConfig(event))
  return config
}

const runtimeConfigByEnv = new WeakMap<object, ReturnType<typeof useRuntimeConfig>>()

function parseGatewayConfig(runtimeConfig: ReturnType<typeof useRuntimeConfig>): GatewayConfig {
  const result = gatewayConfigSchema.safeParse({ cockpit: runtimeConfig.cockpit, ...runtimeConfig.cockpitGateway })
  if (!result.success) {
    const where = result.error.issues.map(issue => issue.path.join('.')).join(', ')
    console.error(`[cockpit-gateway] invalid configuration: ${where}`)
    throw createError({ statusCode: 500, statusMessage: 'Gateway misconfigured', data: { code: 'CONFIG_INVALID' } })
  }
  return result.data
}

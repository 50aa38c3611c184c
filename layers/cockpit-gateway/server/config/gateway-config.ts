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

const gatewayConfigSchema = z.object({
  cockpit: z.object({
    url: z.string(),
    version: z.coerce.number().pipe(z.union([z.literal(1), z.literal(2)])),
    readKey: z.string(),
    writeKey: z.string(),
    roleKeys: jsonish(z.record(z.string(), z.string()).default({})),
    authKey: z.string(),
    timeout: z.coerce.number().int().positive(),
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
  storeRetryInterval: z.coerce.number().int().min(0).max(60_000),
  webhookSecret: z.string(),
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
  }),
  cache: z.object({
    maxAge: z.coerce.number().int().nonnegative(),
    staleMaxAge: z.coerce.number().int().nonnegative(),
    invalidationCheckInterval: z.coerce.number().int().min(0).max(1000),
  }),
  limits: z.object({
    defaultListLimit: z.coerce.number().int().positive(),
    maxListLimit: z.coerce.number().int().positive(),
    bodySize: z.coerce.number().int().positive(),
  }).refine(limits => limits.defaultListLimit <= limits.maxListLimit, { message: 'defaultListLimit must not exceed maxListLimit', path: ['defaultListLimit'] }),
})

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

import { defineDriver } from 'unstorage'
import { DURABLE_DRIVER_NAME, readDurableReply } from './durable-protocol'
import type { DurableStateClient, DurableStateReplies, DurableStateRequest } from './durable-protocol'

/** The part of a Workers Durable Object namespace binding used here. */
interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown
  get(id: unknown): { fetch(input: string, init: RequestInit): Promise<Response> }
}

/** Options of {@link durableObjectDriver}. */
export interface DurableObjectDriverOptions {
  /** Name of the worker's binding to the `CockpitGatewayState` namespace. */
  binding: string
  /** Kept apart per mount: the object of `read:1.2.3.4` under `rate-limit` is not the one under `state`. */
  base: string
}

function isNamespace(value: unknown): value is DurableObjectNamespaceLike {
  return !!value && typeof (value as DurableObjectNamespaceLike).idFromName === 'function' && typeof (value as DurableObjectNamespaceLike).get === 'function'
}

/**
 * The worker side of the gateway's Durable Object store: one object per key (`idFromName(base:key)`), one
 * POST per call. The binding is looked up when a call is made, not at start-up: Nitro's Cloudflare entry
 * hands the worker its bindings (`globalThis.__env__`) with each request.
 * @param options binding name and mount base
 */
export function createDurableStateClient(options: DurableObjectDriverOptions): DurableStateClient {
  const { binding, base } = options
  return {
    async call<R extends DurableStateRequest>(request: R): Promise<DurableStateReplies[R['op']]> {
      const namespace = (globalThis as { __env__?: Record<string, unknown> }).__env__?.[binding]
      // Fixed messages: they may reach a log line, never a client.
      if (!isNamespace(namespace)) throw new Error('Durable Object binding not available')
      const stub = namespace.get(namespace.idFromName(`${base}:${request.key}`))
      const response = await stub.fetch('https://cockpit-gateway-state.internal/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      })
      if (!response.ok) throw new Error(`Durable Object answered ${response.status}`)
      const reply = readDurableReply<R['op']>(request.op, await response.json().catch(() => undefined))
      if (reply === undefined) throw new Error('Durable Object answered something unexpected')
      return reply
    },
  }
}

/**
 * An unstorage driver on the gateway's Durable Object namespace (`cockpit-gateway:rate-limit` and
 * `cockpit-gateway:state` are mounted on it when `durableObjectBinding` is set). Reads and writes are
 * strongly consistent (one object per key); the rate limiter recognises the driver and runs each step
 * inside the key's object in one call (see `rate-limit.ts`). Keys cannot be listed: each lives in its own object.
 * @param options binding name and mount base
 */
export const durableObjectDriver = defineDriver((options: DurableObjectDriverOptions) => {
  const client = createDurableStateClient(options)
  const get = async (key: string) => (await client.call({ op: 'get', key })).value
  return {
    name: DURABLE_DRIVER_NAME,
    options,
    getInstance: () => client,
    async hasItem(key: string) {
      return (await get(key)) !== null
    },
    getItem: get,
    async setItem(key: string, value: string) {
      await client.call({ op: 'set', key, value })
    },
    async removeItem(key: string) {
      await client.call({ op: 'remove', key })
    },
    getKeys() {
      throw new Error('the Durable Object store cannot list keys')
    },
  }
})

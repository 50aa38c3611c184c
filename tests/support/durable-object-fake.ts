import { CockpitGatewayState } from '../../layers/cockpit-gateway/server/rate-limit/durable-object'

// A stand-in for the Workers runtime around the gateway's Durable Object, for Node unit tests (workerd does
// not run inside vitest; the preset smoke runs the real class in workerd). Each name gets one object with its
// own storage. Calls are not serialised here: their awaits interleave freely (more freely than input gates
// allow), so exactness must come from the class itself. The object is the real class.

/** An in-memory `DurableObjectStorage` with the calls the class uses, and its alarm. */
class FakeObjectStorage {
  readonly data = new Map<string, unknown>()
  alarmAt: number | null = null
  async get(key: string) {
    return this.data.get(key)
  }

  async put(key: string, value: unknown) {
    this.data.set(key, value)
  }

  async delete(key: string) {
    return this.data.delete(key)
  }

  async list(options: { prefix?: string } = {}) {
    const keys = [...this.data.keys()].filter(k => k.startsWith(options.prefix ?? '')).sort()
    return new Map(keys.map(k => [k, this.data.get(k)]))
  }

  async setAlarm(at: number) {
    this.alarmAt = at
  }
}

interface FakeObject {
  state: CockpitGatewayState
  storage: FakeObjectStorage
}

/** A Durable Object namespace binding of `CockpitGatewayState`, objects kept for the namespace's life. */
export class FakeDurableNamespace {
  readonly objects = new Map<string, FakeObject>()
  /** Calls answered so far (one per round trip). */
  calls = 0

  idFromName(name: string): string {
    return name
  }

  get(id: string) {
    return {
      fetch: async (input: string, init: RequestInit): Promise<Response> => {
        this.calls++
        return this.object(id).state.fetch(new Request(input, init))
      },
    }
  }

  /** Runs the alarms due by `now` (Infinity: every alarm set), as the runtime would when their time comes. */
  async runDueAlarms(now = Date.now()): Promise<void> {
    for (const object of this.objects.values()) {
      if (object.storage.alarmAt !== null && object.storage.alarmAt <= now) {
        object.storage.alarmAt = null
        await object.state.alarm()
      }
    }
  }

  /** Every key held by any object, sorted. */
  storedKeys(): string[] {
    return [...this.objects.values()].flatMap(o => [...o.storage.data.keys()]).sort()
  }

  private object(id: string): FakeObject {
    let object = this.objects.get(id)
    if (!object) {
      const storage = new FakeObjectStorage()
      object = { state: new CockpitGatewayState({ storage }), storage }
      this.objects.set(id, object)
    }
    return object
  }
}

import { describe, expect, it, vi } from 'vitest'

// The state store module imports Nitro's storage, which needs a running Nitro; these cases never touch it.
vi.mock('nitropack/runtime', () => ({
  useStorage: () => {
    throw new Error('no storage in unit tests')
  },
}))

const { runSerialised, sha256Hex } = await import('../../layers/cockpit-gateway/server/writes/state-store')

describe('sha256Hex', () => {
  it('gives the SHA-256 of the UTF-8 text as 64 lower-case hex digits', async () => {
    expect(await sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    // Bytes below 0x10 keep their leading zero; text outside ASCII is hashed as UTF-8.
    expect(await sha256Hex('é')).toBe('4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c')
  })
})

describe('runSerialised', () => {
  it('runs tasks of one key one after another, and tasks of other keys alongside', async () => {
    const events: string[] = []
    const task = (name: string, ms: number) => async () => {
      events.push(`${name} start`)
      await new Promise(resolve => setTimeout(resolve, ms))
      events.push(`${name} end`)
      return name
    }
    const results = await Promise.all([runSerialised('a', task('a1', 30)), runSerialised('a', task('a2', 1)), runSerialised('b', task('b1', 1))])
    expect(results).toEqual(['a1', 'a2', 'b1'])
    expect(events.indexOf('a2 start')).toBeGreaterThan(events.indexOf('a1 end'))
    expect(events.indexOf('b1 end')).toBeLessThan(events.indexOf('a1 end'))
  })

  it('runs the next task of a key after the one before failed', async () => {
    const failing = runSerialised('c', async () => {
      throw new Error('first failed')
    })
    const next = runSerialised('c', async () => 'second ran')
    await expect(failing).rejects.toThrow('first failed')
    await expect(next).resolves.toBe('second ran')
  })
})

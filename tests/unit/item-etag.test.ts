import { afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { defineCockpitModel } from '../../layers/cockpit-gateway/shared/utils/cockpit-model'
import { getCockpitItemBodyEtag, getCockpitItemEtag, isCockpitIfMatchSatisfied, toCanonicalJson } from '../../layers/cockpit-gateway/server/content/item-etag'
import { idempotencyKeySchema } from '../../layers/cockpit-gateway/server/writes/idempotency-key'

const posts = defineCockpitModel('posts', {
  schema: z.object({ title: z.string(), body: z.string().optional(), tags: z.array(z.string()).optional() }),
  read: 'public',
  create: ['editor'],
  update: ['editor'],
  delete: ['editor'],
  publish: ['admin'],
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('item ETags', () => {
  it('depends on the public fields and their values, not on key order or fields that never leave the gateway', async () => {
    const item = { _id: 'a', title: 'T', body: 'B', _modified: 1, _state: 1 }
    const etag = await getCockpitItemEtag(posts, item)
    expect(etag).toMatch(/^"[\w-]{24}"$/)
    expect(await getCockpitItemEtag(posts, { _state: 1, _modified: 1, body: 'B', title: 'T', _id: 'a', _by: 'x', _mby: 'y' })).toBe(etag)
    // Same second (`_modified` unchanged), other content: another tag.
    expect(await getCockpitItemEtag(posts, { ...item, body: 'C' })).not.toBe(etag)
    expect(await getCockpitItemEtag(posts, { ...item, _state: 0 })).not.toBe(etag)
  })

  it('gives a read body the same tag as the item it holds, and neither parses nor hashes a repeated body again', async () => {
    const item = { title: 'T', tags: ['a', 'b'], _id: 'b', _created: 2, _modified: 3 }
    const body = JSON.stringify(item)
    const digest = vi.spyOn(crypto.subtle, 'digest')
    const etag = await getCockpitItemBodyEtag(posts, body)
    expect(etag).toBe(await getCockpitItemEtag(posts, item))
    const calls = digest.mock.calls.length
    const parse = vi.spyOn(JSON, 'parse')
    for (let i = 0; i < 5; i++) expect(await getCockpitItemBodyEtag(posts, body)).toBe(etag)
    expect(digest.mock.calls.length).toBe(calls)
    expect(parse).not.toHaveBeenCalled()
  })

  it('compares If-Match strongly', () => {
    expect(isCockpitIfMatchSatisfied('"abc"', '"abc"')).toBe(true)
    expect(isCockpitIfMatchSatisfied('"x", "abc"', '"abc"')).toBe(true)
    expect(isCockpitIfMatchSatisfied('*', '"abc"')).toBe(true)
    expect(isCockpitIfMatchSatisfied('W/"abc"', '"abc"')).toBe(false)
    expect(isCockpitIfMatchSatisfied('"abd"', '"abc"')).toBe(false)
    expect(isCockpitIfMatchSatisfied('', '"abc"')).toBe(false)
  })

  it('writes canonical JSON with sorted keys at every level', () => {
    expect(toCanonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}')
  })
})

describe('Idempotency-Key', () => {
  it('accepts 1 to 128 printable ASCII characters only', () => {
    for (const good of ['a', 'x'.repeat(128), '0b6f3c1e-9b1a-4c1e-8d2f-3a4b5c6d7e8f', 'with space ~!']) expect(idempotencyKeySchema.safeParse(good).success, good).toBe(true)
    for (const bad of ['', 'x'.repeat(129), 'tab\there', 'nul\u0000', 'é', 'line\n']) expect(idempotencyKeySchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false)
  })
})

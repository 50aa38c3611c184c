import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '../../emulator/index'
import { SEED_V2, startEmulator } from '../../emulator/index'
import { getV2Model } from '../../emulator/models'
import { createDocumentStore } from '../../emulator/store'
import { readV2Singleton } from '../../emulator/v2-singletons'
import type { Answer, CallOptions } from './http-client'
import { OBJECT_ID, call, qs } from './http-client'

const { keys, users, singleton } = SEED_V2
const FULL = { 'api-key': keys.full }
const READ_ONLY = { 'api-key': keys.readOnly }
const SUBMIT = { 'api-key': keys.submit }
const EDITOR = { 'api-key': keys.editorUser }
const AUTH_FAILED = '{"error":"Authentication failed"}'
const DENIED = '{"error":"Permission denied"}'
const LIME_HTML = 'text/html;charset=UTF-8'
const ADMIN_ID = users.admin.id

/** The seeded document, byte for byte (contract 4.1, with the emulator's fixed `_id`). */
const SETTINGS_DOC = `{"siteTitle":"Acceptance Site","tagline":"Real Cockpit, seeded for acceptance tests","_model":"settings","_state":1,"_modified":${singleton.modified},"_mby":"${ADMIN_ID}","_created":${singleton.created},"_cby":"${ADMIN_ID}","_id":"${singleton.id}"}`

let emulator: RunningEmulator
const api = (path: string, options?: CallOptions) => call(emulator.url, path, options)
const readSettings = async () => (await api('/api/content/item/settings', { headers: FULL })).json<Record<string, unknown>>()

function expectJson(answer: Answer, status: number, body: string) {
  expect(answer.status).toBe(status)
  expect(answer.text).toBe(body)
  expect(answer.contentType).toBe('application/json')
}

function expectEmpty404(answer: Answer) {
  expect(answer.status).toBe(404)
  expect(answer.text).toBe('')
  expect(answer.contentType).toBe(LIME_HTML)
}

beforeAll(async () => {
  emulator = await startEmulator({ version: 2, port: 0 })
})

afterAll(async () => {
  await emulator.close()
})

beforeEach(async () => {
  await emulator.reset()
})

describe('0. extended seed [v2]', () => {
  it('role reader (the read key) holds content/posts/read and content/settings/read', async () => {
    expect((await api('/api/content/items/posts', { headers: READ_ONLY })).status).toBe(200)
    expect((await api('/api/content/item/settings', { headers: READ_ONLY })).status).toBe(200)
    expectJson(await api('/api/content/items/messages', { headers: READ_ONLY }), 403, DENIED)
  })

  it('the submit key (role submitter) may only create messages; the seed holds none', async () => {
    expect((await api('/api/content/item/messages', { headers: SUBMIT, json: { data: { name: 'x' } } })).status).toBe(200)
    expectJson(await api('/api/content/items/posts', { headers: SUBMIT }), 403, DENIED)
    await emulator.reset()
    expectJson(await api('/api/content/items/messages', { headers: FULL }), 200, '[]')
  })
})

describe('4.1 [v2] singleton models: reads', () => {
  it('GET /api/content/item/settings, full key or read key → 200 the document', async () => {
    expectJson(await api('/api/content/item/settings', { headers: FULL }), 200, SETTINGS_DOC)
    expectJson(await api('/api/content/item/settings', { headers: READ_ONLY }), 200, SETTINGS_DOC)
  })

  it.each([['submit key', SUBMIT], ['editor USR- key', EDITOR]])('a key whose role lacks content/settings/read (%s) → 403', async (_name, headers) => {
    expectJson(await api('/api/content/item/settings', { headers }), 403, DENIED)
  })

  it('no key / bad key → 412 {"error":"Authentication failed"}', async () => {
    expectJson(await api('/api/content/item/settings'), 412, AUTH_FAILED)
    expectJson(await api('/api/content/item/settings', { headers: { 'api-key': 'API-nope' } }), 412, AUTH_FAILED)
  })

  it('unknown name → 404 {"error":"Model <nosuchsingleton> not found"}', async () => {
    expectJson(await api('/api/content/item/nosuchsingleton', { headers: FULL }), 404, '{"error":"Model <nosuchsingleton> not found"}')
  })

  it('?fields={siteTitle:1} → {_id, siteTitle, _model}; with _id:0 → {siteTitle, _model}; invalid → 400', async () => {
    expectJson(await api(`/api/content/item/settings${qs({ fields: '{siteTitle:1}' })}`, { headers: FULL }), 200, `{"_id":"${singleton.id}","siteTitle":"Acceptance Site","_model":"settings"}`)
    expectJson(await api(`/api/content/item/settings${qs({ fields: '{siteTitle:1,_id:0}' })}`, { headers: FULL }), 200, '{"siteTitle":"Acceptance Site","_model":"settings"}')
    expectJson(await api(`/api/content/item/settings${qs({ fields: '{nope' })}`, { headers: FULL }), 400, '{"error":"<fields> is not valid json"}')
  })

  it('?locale=de → the same document', async () => {
    expectJson(await api('/api/content/item/settings?locale=de', { headers: FULL }), 200, SETTINGS_DOC)
  })

  it('filter and id are ignored: always 200 with the singleton', async () => {
    expectJson(await api(`/api/content/item/settings${qs({ filter: '{siteTitle:"no such title"}' })}`, { headers: FULL }), 200, SETTINGS_DOC)
    expectJson(await api('/api/content/item/settings/000000000000000000000000', { headers: FULL }), 200, SETTINGS_DOC)
  })

  it('GET /api/content/items/settings (list route) → 200 []', async () => {
    expectJson(await api('/api/content/items/settings', { headers: FULL }), 200, '[]')
  })

  it('GET /api/content/items?models={settings:{},posts:{…}} → {"settings":{…document…},"posts":[…]}', async () => {
    const answer = await api(`/api/content/items${qs({ models: '{settings:{},posts:{limit:1,fields:{title:1}}}' })}`, { headers: FULL })
    expect(answer.status).toBe(200)
    expect(answer.text).toBe(`{"settings":${SETTINGS_DOC},"posts":[{"_id":"${SEED_V2.posts.hello.id}","title":"Hello Cockpit"}]}`)
  })

  it('items?models= leaves settings out for a key without the permission', async () => {
    const answer = await api(`/api/content/items${qs({ models: '{settings:{},posts:{}}' })}`, { headers: EDITOR })
    expect(Object.keys(answer.json())).toEqual(['posts'])
  })

  it('DELETE /api/content/item/settings/{id} → 412 {"error":"DELETE method not allowed for <settings>"}', async () => {
    expectJson(await api(`/api/content/item/settings/${singleton.id}`, { method: 'DELETE', headers: FULL }), 412, '{"error":"DELETE method not allowed for <settings>"}')
    expectJson(await api('/api/content/item/settings', { headers: FULL }), 200, SETTINGS_DOC)
  })

  it('GET /api/content/aggregate/settings → 412 {"error":"Aggregate method not allowed for <settings>"}', async () => {
    expectJson(await api(`/api/content/aggregate/settings${qs({ pipeline: '[]' })}`, { headers: FULL }), 412, '{"error":"Aggregate method not allowed for <settings>"}')
  })

  it('_state is not applied to REST reads: after _state:0 the document still comes back, with "_state":0', async () => {
    await api('/api/content/item/settings', { headers: FULL, json: { data: { _id: singleton.id, _state: 0 } } })
    const doc = await readSettings()
    expect(doc).toMatchObject({ siteTitle: 'Acceptance Site', _state: 0 })
  })
})

describe('4.1 [v2] singleton models: nothing ever saved', () => {
  it('REST returns the model\'s default item: every field null, plus _model', async () => {
    const store = await createDocumentStore({ seed: () => ({}) })
    try {
      expect(await readV2Singleton(store, getV2Model('settings')!)).toEqual({ siteTitle: null, tagline: null, _model: 'settings' })
    }
    finally {
      await store.dispose()
    }
  })
})

describe('4.1 [v2] singleton models: writes', () => {
  it('without _id: unsent fields reset to null, _state back to 1, non-fields dropped, full document answered', async () => {
    await api('/api/content/item/settings', { headers: FULL, json: { data: { _id: singleton.id, _state: 0 } } })
    const answer = await api('/api/content/item/settings', { headers: FULL, json: { data: { siteTitle: 'Probe title', notAField: 1 } } })
    expect(answer.status).toBe(200)
    const doc = answer.json<Record<string, unknown>>()
    expect(Object.keys(doc)).toEqual(['siteTitle', 'tagline', '_model', '_state', '_modified', '_mby', '_created', '_cby', '_id'])
    expect(doc).toMatchObject({ siteTitle: 'Probe title', tagline: null, _model: 'settings', _state: 1, _mby: null, _created: singleton.created, _cby: ADMIN_ID, _id: singleton.id })
    expect(doc._modified).toBeGreaterThan(singleton.modified)
    expect(await readSettings()).toEqual(doc)
  })

  it('with _id: a partial merge, answered as the full merged document', async () => {
    const answer = await api('/api/content/item/settings', { headers: FULL, json: { data: { _id: singleton.id, tagline: 'New tagline', notAField: 1 } } })
    expect(answer.status).toBe(200)
    const doc = answer.json<Record<string, unknown>>()
    expect(doc).toMatchObject({ siteTitle: 'Acceptance Site', tagline: 'New tagline', _model: 'settings', _state: 1, _mby: null, _id: singleton.id })
    expect(doc).not.toHaveProperty('notAField')
    expect(await readSettings()).toEqual(doc)
  })

  it('a wrong _id → 200, the merged document echoed under that _id, nothing stored', async () => {
    const wrong = '0123456789abcdef01234567'
    const answer = await api('/api/content/item/settings', { headers: FULL, json: { data: { _id: wrong, siteTitle: 'Ghost' } } })
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ siteTitle: 'Ghost', tagline: 'Real Cockpit, seeded for acceptance tests', _id: wrong })
    expectJson(await api('/api/content/item/settings', { headers: FULL }), 200, SETTINGS_DOC)
  })

  it('the read key → 403 {"error":"Permission denied"}, nothing changes', async () => {
    expectJson(await api('/api/content/item/settings', { headers: READ_ONLY, json: { data: { siteTitle: 'x' } } }), 403, DENIED)
    expectJson(await api('/api/content/item/settings', { headers: READ_ONLY, json: { data: { _id: singleton.id, siteTitle: 'x' } } }), 403, DENIED)
    expectJson(await api('/api/content/item/settings', { headers: FULL }), 200, SETTINGS_DOC)
  })

  it('data missing → 412 {"error":"Item data is missing"}', async () => {
    expectJson(await api('/api/content/item/settings', { headers: FULL, json: { data: {} } }), 412, '{"error":"Item data is missing"}')
  })
})

describe('5.1 [v2] contact messages with the create-only submit key', () => {
  const MESSAGE = { name: 'Ada', email: 'ada@example.test', message: 'Hello from the contact form' }

  it('POST with the submit key → 200 the stored item; non-fields (also _cby, _created) dropped', async () => {
    const answer = await api('/api/content/item/messages', { headers: SUBMIT, json: { data: { ...MESSAGE, notAField: 1, _cby: 'x', _created: 1 } } })
    expect(answer.status).toBe(200)
    const item = answer.json<Record<string, unknown>>()
    expect(Object.keys(item)).toEqual(['name', 'email', 'message', '_state', '_modified', '_mby', '_created', '_cby', '_id'])
    expect(item).toMatchObject({ ...MESSAGE, _state: 1, _mby: null, _cby: null })
    expect(item._created).toBe(item._modified)
    expect(item._created).not.toBe(1)
    expect(item._id).toMatch(OBJECT_ID)
    const stored = await api(`/api/content/item/messages/${String(item._id)}`, { headers: FULL })
    expect(stored.json()).toEqual(item)
  })

  it('form-encoded data[name]=… → 200, the same shape', async () => {
    const answer = await api('/api/content/item/messages', { headers: SUBMIT, form: { 'data[name]': 'Ada', 'data[email]': 'ada@example.test', 'data[message]': 'Hi' } })
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ name: 'Ada', email: 'ada@example.test', message: 'Hi', _state: 1, _cby: null })
  })

  it('the submit key cannot read back, update or delete what it wrote (403 each)', async () => {
    const id = (await api('/api/content/item/messages', { headers: SUBMIT, json: { data: MESSAGE } })).json<{ _id: string }>()._id
    expectJson(await api(`/api/content/item/messages/${id}`, { headers: SUBMIT }), 403, DENIED)
    expectJson(await api('/api/content/items/messages', { headers: SUBMIT }), 403, DENIED)
    expectJson(await api('/api/content/item/messages', { headers: SUBMIT, json: { data: { _id: id, name: 'Eve' } } }), 403, DENIED)
    expectJson(await api(`/api/content/item/messages/${id}`, { method: 'DELETE', headers: SUBMIT }), 403, DENIED)
    expect((await api(`/api/content/item/messages/${id}`, { headers: FULL })).json()).toMatchObject({ name: 'Ada' })
  })

  it('the submit key on posts (create, list) and on settings → 403, nothing stored', async () => {
    expectJson(await api('/api/content/item/posts', { headers: SUBMIT, json: { data: { title: 'Spam' } } }), 403, DENIED)
    expectJson(await api('/api/content/items/posts', { headers: SUBMIT }), 403, DENIED)
    expectJson(await api('/api/content/item/settings', { headers: SUBMIT }), 403, DENIED)
    expectJson(await api('/api/content/item/settings', { headers: SUBMIT, json: { data: { siteTitle: 'Spam' } } }), 403, DENIED)
    const titles = (await api('/api/content/items/posts', { headers: FULL })).json<Array<{ title: string }>>().map(post => post.title)
    expect(titles).not.toContain('Spam')
    expectJson(await api('/api/content/item/settings', { headers: FULL }), 200, SETTINGS_DOC)
  })

  it('the read key on messages → 403; the full key reads them', async () => {
    await api('/api/content/item/messages', { headers: SUBMIT, json: { data: MESSAGE } })
    expectJson(await api('/api/content/items/messages', { headers: READ_ONLY }), 403, DENIED)
    expect((await api('/api/content/items/messages', { headers: FULL })).json()).toHaveLength(1)
  })

  it('"_state":0 in the create body is stored and then invisible to every read; DELETE with the full key removes it', async () => {
    const item = (await api('/api/content/item/messages', { headers: SUBMIT, json: { data: { ...MESSAGE, _state: 0 } } })).json<{ _id: string, _state: number }>()
    expect(item._state).toBe(0)
    expectEmpty404(await api(`/api/content/item/messages/${item._id}`, { headers: FULL }))
    expectJson(await api('/api/content/items/messages', { headers: FULL }), 200, '[]')
    expectJson(await api(`/api/content/item/messages/${item._id}`, { method: 'DELETE', headers: FULL }), 200, '{"success":true}')
  })

  it('required fields missing are stored as null; values of another type are stored as sent', async () => {
    const partial = (await api('/api/content/item/messages', { headers: SUBMIT, json: { data: { message: 'only a message' } } })).json()
    expect(partial).toMatchObject({ name: null, email: null, message: 'only a message' })
    const odd = (await api('/api/content/item/messages', { headers: SUBMIT, json: { data: { name: { $gt: '' }, email: ['a', 'b'] } } })).json()
    expect(odd).toMatchObject({ name: { $gt: '' }, email: ['a', 'b'], message: null })
  })

  it('{"data":{}} → 412 {"error":"Item data is missing"}; no key / bad key → 412 Authentication failed', async () => {
    expectJson(await api('/api/content/item/messages', { headers: SUBMIT, json: { data: {} } }), 412, '{"error":"Item data is missing"}')
    expectJson(await api('/api/content/item/messages', { json: { data: MESSAGE } }), 412, AUTH_FAILED)
    expectJson(await api('/api/content/item/messages', { headers: { 'api-key': `${keys.submit}0` }, json: { data: MESSAGE } }), 412, AUTH_FAILED)
    expectJson(await api('/api/content/items/messages', { headers: FULL }), 200, '[]')
  })
})

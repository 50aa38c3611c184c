import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import bcrypt from 'bcryptjs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '../../emulator/index'
import { SEED_PASSWORD_HASHES, SEED_V2, V2_SESSION_COOKIE, startEmulator } from '../../emulator/index'
import { V2_MODELS } from '../../emulator/models'
import { pickV2UpdateChanges } from '../../emulator/v2-content'
import type { Answer, CallOptions } from './http-client'
import { OBJECT_ID, call, qs } from './http-client'

const { keys, users, posts } = SEED_V2
const FULL = { 'api-key': keys.full }
const READ_ONLY = { 'api-key': keys.readOnly }
const EDITOR = { 'api-key': keys.editorUser }
const JWT_SHAPED = { 'api-key': 'aaa.bbb.ccc' }
const AUTH_FAILED = '{"error":"Authentication failed"}'
const DENIED = '{"error":"Permission denied"}'
const LIME_HTML = 'text/html;charset=UTF-8'
const PUBLISHED_TITLES = [posts.hello.title, posts.second.title, posts.third.title]

let emulator: RunningEmulator
const api = (path: string, options?: CallOptions) => call(emulator.url, path, options)
const titles = (items: Array<{ title: string }>) => items.map(item => item.title)

/** Asserts Lime's empty 404 (`text/html;charset=UTF-8`). */
function expectEmpty404(answer: Answer) {
  expect(answer.status).toBe(404)
  expect(answer.text).toBe('')
  expect(answer.contentType).toBe(LIME_HTML)
}

/** Asserts an exact JSON answer. */
function expectJson(answer: Answer, status: number, body: string) {
  expect(answer.status).toBe(status)
  expect(answer.text).toBe(body)
  expect(answer.contentType).toBe('application/json')
}

beforeAll(async () => {
  emulator = await startEmulator({ version: 2, port: 0 })
})

afterAll(async () => {
  await emulator.close()
})

beforeEach(async () => {
  emulator.setFault(null)
  emulator.clearRequests()
  await emulator.reset()
})

describe('0. reference seed [v2]', () => {
  it('lists the three published posts; the _state=0 draft is never returned', async () => {
    const answer = await api('/api/content/items/posts', { headers: FULL })
    expect(answer.status).toBe(200)
    expect(titles(answer.json())).toEqual(PUBLISHED_TITLES)
    expect(answer.text).not.toContain('Draft post')
    expectEmpty404(await api(`/api/content/item/posts/${posts.draft.id}`, { headers: FULL }))
  })

  it('holds "Second post" with body <p>Second post body</p>, published flags as seeded', async () => {
    const items = (await api('/api/content/items/posts', { headers: FULL })).json<Array<Record<string, unknown>>>()
    expect(items.map(item => item.published)).toEqual([true, true, false])
    expect(items[1]).toMatchObject({ _id: posts.second.id, title: 'Second post', body: '<p>Second post body</p>' })
  })

  it('stores the seed passwords as $2y$10$ bcrypt hashes that bcryptjs verifies', () => {
    for (const [password, hash] of Object.entries(SEED_PASSWORD_HASHES)) {
      expect(hash.startsWith('$2y$10$')).toBe(true)
      expect(bcrypt.compareSync(password, hash)).toBe(true)
      expect(bcrypt.compareSync(`${password}x`, hash)).toBe(false)
    }
  })
})

describe('1.1 authentication of API calls [v2]', () => {
  it('header `api-key: <key>` → accepted', async () => {
    expect((await api('/api/content/items/posts', { headers: FULL })).status).toBe(200)
  })

  it('header name is case-insensitive (`API-KEY`) → accepted', async () => {
    expect((await api('/api/content/items/posts', { headers: { 'API-KEY': keys.full } })).status).toBe(200)
  })

  it('query param `api_key=<key>` → accepted', async () => {
    expect((await api(`/api/content/items/posts?api_key=${keys.full}`)).status).toBe(200)
  })

  it('body param `api_key` → accepted (JSON body)', async () => {
    const answer = await api('/api/content/item/posts', { json: { api_key: keys.full, data: { title: 'Via body key' } } })
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ title: 'Via body key' })
  })

  it('`api_key` takes precedence over the header: a wrong `api_key` with a good header gives 412', async () => {
    expectJson(await api('/api/content/items/posts?api_key=API-wrong', { headers: FULL }), 412, AUTH_FAILED)
  })

  it('`Authorization: Bearer <key>` → accepted', async () => {
    expect((await api('/api/content/items/posts', { headers: { authorization: `Bearer ${keys.full}` } })).status).toBe(200)
  })

  it('Bearer is used only when there is no `api-key` header', async () => {
    const answer = await api('/api/content/items/posts', { headers: { 'api-key': 'API-wrong', 'authorization': `Bearer ${keys.full}` } })
    expectJson(answer, 412, AUTH_FAILED)
  })

  it.each([
    ['?token=', { path: `/api/content/items/posts?token=${keys.full}`, headers: {} }],
    ['Cockpit-Token:', { path: '/api/content/items/posts', headers: { 'Cockpit-Token': keys.full } }],
    ['X-Api-Key:', { path: '/api/content/items/posts', headers: { 'X-Api-Key': keys.full } }],
  ])('%s is not supported → treated as no key → 412', async (_name, { path, headers }) => {
    expectJson(await api(path, { headers }), 412, AUTH_FAILED)
  })

  it('no key and no `public` key (the seeded state) → 412 {"error":"Authentication failed"}', async () => {
    expectJson(await api('/api/content/items/posts'), 412, AUTH_FAILED)
  })

  it('unknown API- key, unknown USR- key and garbage → 412', async () => {
    for (const key of ['API-0000000000000000000000000000000000000000', 'USR-0000000000000000000000000000000000000000', 'nonsense']) {
      expectJson(await api('/api/content/items/posts', { headers: { 'api-key': key } }), 412, AUTH_FAILED)
    }
  })

  it('a JWT-shaped token skips validation: anonymous, role null → 403 on content endpoints', async () => {
    expectJson(await api('/api/content/items/posts', { headers: JWT_SHAPED }), 403, DENIED)
    expectJson(await api('/api/content/item/posts', { headers: JWT_SHAPED, json: { data: { title: 'x' } } }), 403, DENIED)
  })

  it('API- key: acts with its role; `_cby`/`_mby` are null', async () => {
    const item = (await api('/api/content/item/posts', { headers: FULL, json: { data: { title: 'By API key' } } })).json()
    expect(item._cby).toBeNull()
    expect(item._mby).toBeNull()
  })

  it('USR- key: acts as that user; `_cby`/`_mby` are the user _id', async () => {
    const item = (await api('/api/content/item/posts', { headers: EDITOR, json: { data: { title: 'By editor' } } })).json()
    expect(item._cby).toBe(users.editor.id)
    expect(item._mby).toBe(users.editor.id)
  })

  it('read-only key (role reader = content/posts/read only): reads, cannot write', async () => {
    expect((await api('/api/content/items/posts', { headers: READ_ONLY })).status).toBe(200)
    expectJson(await api('/api/content/item/posts', { headers: READ_ONLY, json: { data: { title: 'x' } } }), 403, DENIED)
  })

  it('the model is checked before the permission: unknown model → 404 even without rights', async () => {
    expectJson(await api('/api/content/items/nope', { headers: JWT_SHAPED }), 404, '{"error":"Model <nope> not found"}')
  })
})

describe('1.2 endpoints [v2]', () => {
  it('GET /api/system/healthcheck → 200 {"status":"ok"} without a key', async () => {
    expectJson(await api('/api/system/healthcheck'), 200, '{"status":"ok"}')
  })

  it('GET /api/content/items/{model} → 200 [item,…]', async () => {
    const answer = await api('/api/content/items/posts', { headers: FULL })
    expect(answer.status).toBe(200)
    expect(answer.contentType).toBe('application/json')
    expect(Array.isArray(answer.json())).toBe(true)
  })

  it('GET /api/content/items/{model} with both limit and skip → {"data":[…],"meta":{"total":N}}', async () => {
    const answer = await api('/api/content/items/posts?limit=1&skip=1', { headers: FULL })
    expect(answer.json()).toEqual({ data: [expect.objectContaining({ title: 'Second post' })], meta: { total: 3 } })
  })

  it('GET /api/content/item/{model}/{id} → 200 {item}', async () => {
    const answer = await api(`/api/content/item/posts/${posts.hello.id}`, { headers: FULL })
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ _id: posts.hello.id, title: 'Hello Cockpit' })
  })

  it('GET /api/content/item/{model}/{id} not found → 404, empty body, text/html;charset=UTF-8', async () => {
    expectEmpty404(await api('/api/content/item/posts/000000000000000000000000', { headers: FULL }))
  })

  it('GET /api/content/item/{model}/{id} not published (_state 0) → 404 empty', async () => {
    expectEmpty404(await api(`/api/content/item/posts/${posts.draft.id}`, { headers: FULL }))
  })

  it('GET /api/content/item/{model}?filter=… → first match 200 {item}', async () => {
    const answer = await api(`/api/content/item/posts${qs({ filter: '{published:false}' })}`, { headers: FULL })
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ title: 'Third post' })
  })

  it('GET /api/content/item/{model}?filter=… without a match → 404 with an empty body', async () => {
    expectEmpty404(await api(`/api/content/item/posts${qs({ filter: '{title:"nothing"}' })}`, { headers: FULL }))
  })

  it('POST /api/content/item/{model} {"data":{…}} (no _id) → 200 {full new item}', async () => {
    const answer = await api('/api/content/item/posts', { headers: FULL, json: { data: { title: 'Probe post', body: '<p>probe</p>', published: true } } })
    expect(answer.status).toBe(200)
    expect(Object.keys(answer.json())).toEqual(['title', 'body', 'published', '_state', '_modified', '_mby', '_created', '_cby', '_id'])
  })

  it('POST /api/content/item/{model} {"data":{"_id":…}} → 200 {only the fields sent + _modified + _mby}', async () => {
    const answer = await api('/api/content/item/posts', { headers: FULL, json: { data: { _id: posts.hello.id, title: 'Hello (updated)' } } })
    expect(answer.status).toBe(200)
    const body = answer.json()
    expect(Object.keys(body)).toEqual(['_id', 'title', '_modified', '_mby'])
    expect(body).toMatchObject({ _id: posts.hello.id, title: 'Hello (updated)', _mby: null })
  })

  it('DELETE /api/content/item/{model}/{id} → 200 {"success":true}', async () => {
    expectJson(await api(`/api/content/item/posts/${posts.hello.id}`, { method: 'DELETE', headers: FULL }), 200, '{"success":true}')
    expectEmpty404(await api(`/api/content/item/posts/${posts.hello.id}`, { headers: FULL }))
  })

  it('DELETE /api/content/item/{model}/{id} also when the id does not exist → 200 {"success":true}', async () => {
    expectJson(await api('/api/content/item/posts/000000000000000000000000', { method: 'DELETE', headers: FULL }), 200, '{"success":true}')
  })

  it('GET /api/content/items?models={posts:{limit:1}} → 200 {"posts":[…]}', async () => {
    const answer = await api(`/api/content/items${qs({ models: '{posts:{limit:1}}' })}`, { headers: FULL })
    expect(answer.status).toBe(200)
    expect(answer.json()).toEqual({ posts: [expect.objectContaining({ title: 'Hello Cockpit' })] })
  })

  it('GET /api/content/items?models= leaves unknown and forbidden models out silently', async () => {
    const answer = await api(`/api/content/items${qs({ models: '{posts:{},nope:{}}' })}`, { headers: FULL })
    expect(Object.keys(answer.json())).toEqual(['posts'])
    const denied = await api(`/api/content/items${qs({ models: '{posts:{}}' })}`, { headers: JWT_SHAPED })
    expect(denied.status).toBe(200)
    expect(denied.json()).toEqual([])
  })

  it('GET /api/content/items without models → 412 {"error":"<models> parameter is missing"}', async () => {
    expectJson(await api('/api/content/items', { headers: FULL }), 412, '{"error":"<models> parameter is missing"}')
  })

  it('GET /api/content/aggregate/{model}?pipeline=[…] → 200 [...] with {$match:{_state:1}} prepended', async () => {
    const answer = await api(`/api/content/aggregate/posts${qs({ pipeline: '[{$sort:{_created:-1}},{$project:{title:1,_id:0}}]' })}`, { headers: FULL })
    expect(answer.status).toBe(200)
    expect(answer.json()).toEqual([{ title: 'Third post' }, { title: 'Second post' }, { title: 'Hello Cockpit' }])
    const count = await api(`/api/content/aggregate/posts${qs({ pipeline: '[{$match:{_state:0}},{$count:"n"}]' })}`, { headers: FULL })
    expect(count.json()).toEqual([{ n: 0 }])
  })

  it('GET /api/content/tree/{model} on a model that is not a tree → 400 {"error":"Permission denied"} (sic)', async () => {
    expectJson(await api('/api/content/tree/posts', { headers: FULL }), 400, DENIED)
  })

  it('/api/gql is not emulated: answered like any unknown route (404, empty)', async () => {
    expectEmpty404(await api('/api/gql', { headers: FULL, json: { query: '{ postsModel(limit:2){ _id title } }' } }))
  })

  it('assets: unknown id /api/assets/{id} → 404 with an empty body', async () => {
    expectEmpty404(await api('/api/assets/000000000000000000000000', { headers: FULL }))
  })

  it.each(['/api/assets/image/000000000000000000000000?w=32', '/api/assets/image/000000000000000000000000/thumbnail'])(
    'assets: unknown id %s → 400 {"error":"Asset not found"} (section 6.2)', async (path) => {
      expectJson(await api(path, { headers: FULL }), 400, '{"error":"Asset not found"}')
    },
  )

  it.each(['/api/collections/get/posts', '/api/cockpit/authUser'])('anything else under /api (%s) with a valid key → 404, empty text/html', async (path) => {
    expectEmpty404(await api(path, { headers: FULL }))
  })

  it.each(['/api/collections/get/posts', '/api/cockpit/authUser'])('anything else under /api (%s) with no or a bad key → 412', async (path) => {
    expectJson(await api(path), 412, AUTH_FAILED)
    expectJson(await api(path, { headers: { 'api-key': 'API-bad' } }), 412, AUTH_FAILED)
  })

  it('methods not defined: PUT /api/content/item/posts → 404, empty body', async () => {
    expectEmpty404(await api('/api/content/item/posts', { method: 'PUT', headers: FULL, json: { data: { title: 'x' } } }))
  })

  it('methods not defined: DELETE /api/content/items/posts → 404, empty body', async () => {
    expectEmpty404(await api('/api/content/items/posts', { method: 'DELETE', headers: FULL }))
  })
})

describe('1.3 item shape [v2]', () => {
  it('system fields: 24-hex _id, _state 1, Unix-second _created/_modified, _cby/_mby; no _by', async () => {
    const [item] = (await api('/api/content/items/posts', { headers: FULL })).json()
    expect(item._id).toMatch(OBJECT_ID)
    expect(item._state).toBe(1)
    expect(Number.isInteger(item._created) && Number.isInteger(item._modified)).toBe(true)
    expect(item._created).toBeLessThan(10_000_000_000)
    expect(item._cby).toBe(users.editor.id)
    expect(item).not.toHaveProperty('_by')
  })

  it('JSON is encoded like PHP: "/" is escaped as "\\/"', async () => {
    const answer = await api(`/api/content/item/posts/${posts.second.id}`, { headers: FULL })
    expect(answer.text).toContain('"body":"<p>Second post body<\\/p>"')
  })

  it('new items get a fresh 24-hex _id and the current Unix time in seconds', async () => {
    const before = Math.floor(Date.now() / 1000)
    const item = (await api('/api/content/item/posts', { headers: FULL, json: { data: { title: 'Timed' } } })).json()
    expect(item._id).toMatch(OBJECT_ID)
    expect(item._created).toBeGreaterThanOrEqual(before)
    expect(item._created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))
    expect(item._modified).toBe(item._created)
  })

  it('only the model fields appear; missing fields are null on create', async () => {
    const item = (await api('/api/content/item/posts', { headers: FULL, json: { data: { body: '<p>no title</p>' } } })).json()
    expect(item.title).toBeNull()
    expect(item.published).toBeNull()
  })

  it('values are not type-checked: published:"1" (form post) is stored as the string "1"', async () => {
    const answer = await api('/api/content/item/posts', { headers: FULL, form: { 'data[title]': 'Form post', 'data[published]': '1' } })
    expect(answer.json()).toMatchObject({ title: 'Form post', published: '1' })
    const stored = await api(`/api/content/item/posts/${answer.json()._id}`, { headers: FULL })
    expect(stored.json().published).toBe('1')
  })
})

describe('1.4 list parameters [v2]', () => {
  const list = async (params: Record<string, string | number>, headers: Record<string, string> = FULL) =>
    api(`/api/content/items/posts${qs(params)}`, { headers })

  it('filter as JSON', async () => {
    expect(titles((await list({ filter: '{"published":true}' })).json())).toEqual(['Hello Cockpit', 'Second post'])
  })

  it('filter as JSON5 ({published:true})', async () => {
    expect(titles((await list({ filter: '{published:true}' })).json())).toEqual(['Hello Cockpit', 'Second post'])
  })

  it('filter with implicit equality, $eq and $ne', async () => {
    expect(titles((await list({ filter: '{title:"Third post"}' })).json())).toEqual(['Third post'])
    expect(titles((await list({ filter: '{title:{$eq:"Third post"}}' })).json())).toEqual(['Third post'])
    expect(titles((await list({ filter: '{title:{$ne:"Third post"}}' })).json())).toEqual(['Hello Cockpit', 'Second post'])
  })

  it('filter with $in and $nin', async () => {
    expect(titles((await list({ filter: '{title:{$in:["Hello Cockpit","Third post"]}}' })).json())).toEqual(['Hello Cockpit', 'Third post'])
    expect(titles((await list({ filter: '{title:{$nin:["Hello Cockpit","Third post"]}}' })).json())).toEqual(['Second post'])
  })

  it('filter with $gt $gte $lt $lte', async () => {
    const t = posts.second.created
    expect(titles((await list({ filter: `{_created:{$gt:${t}}}` })).json())).toEqual(['Third post'])
    expect(titles((await list({ filter: `{_created:{$gte:${t}}}` })).json())).toEqual(['Second post', 'Third post'])
    expect(titles((await list({ filter: `{_created:{$lt:${t}}}` })).json())).toEqual(['Hello Cockpit'])
    expect(titles((await list({ filter: `{_created:{$lte:${t}}}` })).json())).toEqual(['Hello Cockpit', 'Second post'])
  })

  it('filter with $exists, $regex, $or and $and', async () => {
    expect(titles((await list({ filter: '{body:{$exists:true}}' })).json())).toEqual(PUBLISHED_TITLES)
    expect(titles((await list({ filter: '{title:{$regex:"post"}}' })).json())).toEqual(['Second post', 'Third post'])
    expect(titles((await list({ filter: '{$or:[{title:"Hello Cockpit"},{published:false}]}' })).json())).toEqual(['Hello Cockpit', 'Third post'])
    expect(titles((await list({ filter: '{$and:[{published:true},{title:{$regex:"^sec"}}]}' })).json())).toEqual(['Second post'])
  })

  it('filter cannot override _state: {_state:0} still returns only _state:1 items', async () => {
    const answer = await list({ filter: '{_state:0}' })
    expect(answer.status).toBe(200)
    expect(titles(answer.json())).toEqual(PUBLISHED_TITLES)
    expect(answer.json().every((item: { _state: number }) => item._state === 1)).toBe(true)
  })

  it('_state is forced on every read: item by filter and aggregate never see the draft', async () => {
    expectEmpty404(await api(`/api/content/item/posts${qs({ filter: `{_id:"${posts.draft.id}"}` })}`, { headers: FULL }))
    const aggregated = await api(`/api/content/aggregate/posts${qs({ pipeline: '[{$project:{title:1}}]' })}`, { headers: FULL })
    expect(titles(aggregated.json())).toEqual(PUBLISHED_TITLES)
  })

  it('invalid filter string → 400 {"error":"<filter> is not valid json"}', async () => {
    expectJson(await list({ filter: '{not json' }), 400, '{"error":"<filter> is not valid json"}')
  })

  it('unknown operator → 500 {"error": "500", "message": "system error"} with text/html; charset=UTF-8', async () => {
    const answer = await list({ filter: '{"title":{"$bogus":1}}' })
    expect(answer.status).toBe(500)
    expect(answer.text).toBe('{"error": "500", "message": "system error"}')
    expect(answer.contentType).toBe('text/html; charset=UTF-8')
  })

  it('sort {"title":1} and {"_created":-1}', async () => {
    expect(titles((await list({ sort: '{"title":1}' })).json())).toEqual(['Hello Cockpit', 'Second post', 'Third post'])
    expect(titles((await list({ sort: '{_created:-1}' })).json())).toEqual(['Third post', 'Second post', 'Hello Cockpit'])
  })

  it('invalid sort → 400 {"error":"<sort> is not valid json"}', async () => {
    expectJson(await list({ sort: '{title:' }), 400, '{"error":"<sort> is not valid json"}')
  })

  it('fields {title:1}: _id is always included', async () => {
    expect((await list({ fields: '{title:1}' })).json()[0]).toEqual({ _id: posts.hello.id, title: 'Hello Cockpit' })
  })

  it('fields {title:1,_id:0}: _id left out', async () => {
    expect((await list({ fields: '{title:1,_id:0}' })).json()[0]).toEqual({ title: 'Hello Cockpit' })
  })

  it('fields exclusion {body:0}', async () => {
    const [item] = (await list({ fields: '{body:0}' })).json()
    expect(item).not.toHaveProperty('body')
    expect(item).toHaveProperty('title')
    expect(item).toHaveProperty('_state')
  })

  it('invalid fields → 400 {"error":"<fields> is not valid json"}', async () => {
    expectJson(await list({ fields: '{title' }), 400, '{"error":"<fields> is not valid json"}')
  })

  it('limit as int', async () => {
    expect(titles((await list({ limit: 2 })).json())).toEqual(['Hello Cockpit', 'Second post'])
  })

  it('limit=abc → 0 → no limit', async () => {
    expect(titles((await list({ limit: 'abc' })).json())).toEqual(PUBLISHED_TITLES)
  })

  it('skip is ignored unless limit is also given', async () => {
    expect(titles((await list({ skip: 1 })).json())).toEqual(PUBLISHED_TITLES)
  })

  it('limit+skip → {"data":[…],"meta":{"total":<count of published matching filter>}}', async () => {
    const answer = await list({ limit: 1, skip: 0, filter: '{published:true}' })
    expect(answer.json()).toEqual({ data: [expect.objectContaining({ title: 'Hello Cockpit' })], meta: { total: 2 } })
  })

  it('populate and locale are accepted; rspc=1 adds Last-Modified', async () => {
    const answer = await list({ populate: 1, locale: 'default', rspc: 1 })
    expect(titles(answer.json())).toEqual(PUBLISHED_TITLES)
    expect(answer.headers.get('last-modified')).toMatch(/GMT$/)
    expect((await list({})).headers.get('last-modified')).toBeNull()
  })

  it('GET /api/content/item/{model}/{id} accepts fields; an invalid fields → 400', async () => {
    const answer = await api(`/api/content/item/posts/${posts.hello.id}${qs({ fields: '{title:1}' })}`, { headers: FULL })
    expect(answer.json()).toEqual({ _id: posts.hello.id, title: 'Hello Cockpit' })
    expectJson(await api(`/api/content/item/posts/${posts.hello.id}${qs({ fields: '{' })}`, { headers: FULL }), 400, '{"error":"<fields> is not valid json"}')
  })
})

describe('1.5 writes [v2]', () => {
  const save = (body: unknown, headers: Record<string, string> = FULL) => api('/api/content/item/posts', { headers, json: body })

  it('form-encoded body data[title]=… creates an item', async () => {
    const answer = await api('/api/content/item/posts', { headers: FULL, form: { 'data[title]': 'From a form' } })
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ title: 'From a form', body: null, _state: 1 })
  })

  it.each([
    ['data missing', { nothing: true }],
    ['data not an object', { data: 'text' }],
    ['data empty', { data: {} }],
  ])('%s → 412 {"error":"Item data is missing"}', async (_name, body) => {
    expectJson(await save(body), 412, '{"error":"Item data is missing"}')
  })

  it('malformed JSON → 412 {"error":"Item data is missing"}', async () => {
    const answer = await api('/api/content/item/posts', { method: 'POST', headers: { ...FULL, 'content-type': 'application/json' }, body: '{"data":' })
    expectJson(answer, 412, '{"error":"Item data is missing"}')
  })

  it('unknown model → 404 {"error":"Model <nope> not found"}', async () => {
    expectJson(await api('/api/content/item/nope', { headers: FULL, json: { data: { title: 'x' } } }), 404, '{"error":"Model <nope> not found"}')
  })

  it('no permission → 403 {"error":"Permission denied"}', async () => {
    expectJson(await save({ data: { title: 'x' } }, READ_ONLY), 403, DENIED)
    expectJson(await save({ data: { _id: posts.hello.id, title: 'x' } }, READ_ONLY), 403, DENIED)
  })

  it('create: merged over defaults, _state defaults to 1, notAField is dropped, full item returned', async () => {
    const answer = await save({ data: { title: 'Probe post', body: '<p>probe</p>', published: true, notAField: 1 } })
    const item = answer.json()
    expect(item).toEqual({
      title: 'Probe post', body: '<p>probe</p>', published: true, _state: 1,
      _modified: item._created, _mby: null, _created: item._created, _cby: null, _id: item._id,
    })
    expect(answer.text).toContain('"body":"<p>probe<\\/p>"')
    const stored = (await api(`/api/content/item/posts/${item._id}`, { headers: FULL })).json()
    expect(stored).toEqual(item)
  })

  it('create: the caller may send _state:0 (only create is checked); the item is then never readable', async () => {
    const item = (await save({ data: { title: 'Hidden', _state: 0 } }, EDITOR)).json()
    expect(item._state).toBe(0)
    expectEmpty404(await api(`/api/content/item/posts/${item._id}`, { headers: FULL }))
  })

  it('update: partial merge, the response has only the fields sent plus _modified and _mby', async () => {
    const created = (await save({ data: { title: 'Probe post', body: '<p>probe</p>', published: true } })).json()
    const answer = await save({ data: { _id: created._id, title: 'Probe post (updated)', notAField: 2 } })
    expect(answer.json()).toEqual({ _id: created._id, title: 'Probe post (updated)', _modified: expect.any(Number), _mby: null })
    const stored = (await api(`/api/content/item/posts/${created._id}`, { headers: FULL })).json()
    expect(stored).toMatchObject({ title: 'Probe post (updated)', body: '<p>probe</p>', published: true, _created: created._created })
    expect(stored).not.toHaveProperty('notAField')
  })

  it('update: fields cannot be removed (null is a value, absent keys stay)', async () => {
    await save({ data: { _id: posts.second.id, published: false } })
    const stored = (await api(`/api/content/item/posts/${posts.second.id}`, { headers: FULL })).json()
    expect(stored).toMatchObject({ title: 'Second post', body: '<p>Second post body</p>', published: false })
  })

  it('update of an _id that does not exist → 200 with the echo, but nothing is stored', async () => {
    const answer = await save({ data: { _id: '0123456789abcdef01234567', title: 'Ghost' } })
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ _id: '0123456789abcdef01234567', title: 'Ghost' })
    expectEmpty404(await api('/api/content/item/posts/0123456789abcdef01234567', { headers: FULL }))
    expect(titles((await api('/api/content/items/posts', { headers: FULL })).json())).toEqual(PUBLISHED_TITLES)
  })

  it('update by a user key: _mby is the user', async () => {
    const answer = await save({ data: { _id: posts.hello.id, title: 'Edited' } }, EDITOR)
    expect(answer.json()._mby).toBe(users.editor.id)
  })

  it('update with publish permission may change _state', async () => {
    const answer = await save({ data: { _id: posts.hello.id, _state: 0 } }, EDITOR)
    expect(answer.json()._state).toBe(0)
    expectEmpty404(await api(`/api/content/item/posts/${posts.hello.id}`, { headers: FULL }))
  })

  it('_state is silently dropped unless the caller has publish (no seeded role has update without publish: checked on the pure step)', () => {
    const changes = pickV2UpdateChanges(V2_MODELS.posts!, { _id: posts.hello.id, _state: 0, title: 'T', nope: 1 }, false, null, 1795933584)
    expect(changes).toEqual({ _id: posts.hello.id, title: 'T', _modified: 1795933584, _mby: null })
    expect(pickV2UpdateChanges(V2_MODELS.posts!, { _id: posts.hello.id, _state: 0 }, true, 'u', 1)).toEqual({ _id: posts.hello.id, _state: 0, _modified: 1, _mby: 'u' })
  })

  it('delete: DELETE /api/content/item/posts/{id} → {"success":true}; the same for an id that does not exist', async () => {
    expectJson(await api(`/api/content/item/posts/${posts.third.id}`, { method: 'DELETE', headers: EDITOR }), 200, '{"success":true}')
    expectJson(await api(`/api/content/item/posts/${posts.third.id}`, { method: 'DELETE', headers: EDITOR }), 200, '{"success":true}')
    expect(titles((await api('/api/content/items/posts', { headers: FULL })).json())).toEqual(['Hello Cockpit', 'Second post'])
  })

  it('delete with the read-only key → 403', async () => {
    expectJson(await api(`/api/content/item/posts/${posts.third.id}`, { method: 'DELETE', headers: READ_ONLY }), 403, DENIED)
  })
})

describe('1.6 status codes and error bodies [v2]', () => {
  it('no key / wrong key / unknown USR- key → 412 {"error":"Authentication failed"} application/json', async () => {
    expectJson(await api('/api/content/items/posts'), 412, AUTH_FAILED)
    expectJson(await api('/api/content/items/posts', { headers: { 'api-key': 'wrong' } }), 412, AUTH_FAILED)
    expectJson(await api('/api/content/items/posts', { headers: { 'api-key': 'USR-da7031273a73ae299876608f160b18e120677851' } }), 412, AUTH_FAILED)
  })

  it('role lacks permission → 403 {"error":"Permission denied"}', async () => {
    expectJson(await api('/api/content/item/posts', { headers: READ_ONLY, json: { data: { title: 'x' } } }), 403, DENIED)
  })

  it('unknown model → 404 {"error":"Model <nope> not found"}', async () => {
    expectJson(await api('/api/content/items/nope', { headers: FULL }), 404, '{"error":"Model <nope> not found"}')
    expectJson(await api('/api/content/item/nope/1', { headers: FULL }), 404, '{"error":"Model <nope> not found"}')
    expectJson(await api('/api/content/item/nope/1', { method: 'DELETE', headers: FULL }), 404, '{"error":"Model <nope> not found"}')
  })

  it('item/route not found, or method not defined → 404, empty, text/html;charset=UTF-8', async () => {
    expectEmpty404(await api(`/api/content/item/posts/${posts.draft.id}`, { headers: FULL }))
    expectEmpty404(await api('/api/nothing/here', { headers: FULL }))
    expectEmpty404(await api('/api/content/items/posts', { method: 'POST', headers: FULL, json: {} }))
  })

  it('bad filter/sort/fields JSON → 400 {"error":"<name> is not valid json"}', async () => {
    for (const name of ['filter', 'sort', 'fields']) {
      expectJson(await api(`/api/content/items/posts?${name}=%7B`, { headers: FULL }), 400, `{"error":"<${name}> is not valid json"}`)
    }
  })

  it('missing or malformed body data → 412 {"error":"Item data is missing"}', async () => {
    expectJson(await api('/api/content/item/posts', { method: 'POST', headers: FULL }), 412, '{"error":"Item data is missing"}')
  })

  it('PHP exception (non-debug) → 500 {"error": "500", "message": "system error"} text/html; charset=UTF-8', async () => {
    const answer = await api(`/api/content/items/posts${qs({ filter: '{title:{$regex:"("}}' })}`, { headers: FULL })
    expect(answer.status).toBe(500)
    expect(answer.text).toBe('{"error": "500", "message": "system error"}')
    expect(answer.contentType).toBe('text/html; charset=UTF-8')
  })

  it('CORS preflight OPTIONS /api/* → 200 "OK CORS", empty, application/json; charset=UTF-8', async () => {
    const answer = await api('/api/content/items/posts', { method: 'OPTIONS', headers: { 'Origin': 'https://site.test', 'Access-Control-Request-Method': 'GET' } })
    expect(answer.status).toBe(200)
    expect(answer.statusText).toBe('OK CORS')
    expect(answer.text).toBe('')
    expect(answer.contentType).toBe('application/json; charset=UTF-8')
  })

  it('all /api/* responses carry the CORS headers (200, 404, 412, OPTIONS)', async () => {
    const answers = await Promise.all([
      api('/api/content/items/posts', { headers: FULL }),
      api('/api/nothing', { headers: FULL }),
      api('/api/content/items/posts'),
      api('/api/content/items/posts', { method: 'OPTIONS' }),
      api('/api/system/healthcheck'),
    ])
    for (const answer of answers) {
      expect(answer.headers.get('access-control-allow-origin')).toBe('*')
      expect(answer.headers.get('access-control-allow-credentials')).toBe('true')
      expect(answer.headers.get('access-control-allow-headers')).toBe('X-Requested-With, Content-Type, Origin, Cache-Control, Pragma, Authorization, Accept, Accept-Encoding, API-KEY')
    }
  })

  it('debug is off even with Host: localhost (no detailed errors, no APP_DURATION_TIME)', async () => {
    const answer = await api(`/api/content/items/posts${qs({ filter: '{title:{$bogus:1}}' })}`, { headers: { ...FULL, host: 'localhost' } })
    expect(answer.text).toBe('{"error": "500", "message": "system error"}')
    expect(answer.headers.get('app_duration_time')).toBeNull()
  })
})

/** A fresh cookie jar: one admin-UI session, as a gateway must use per login attempt. */
function createSession() {
  let cookie = ''
  const remember = (answer: Answer) => {
    for (const line of answer.headers.getSetCookie()) {
      const [pair] = line.split(';')
      if (pair!.startsWith(`${V2_SESSION_COOKIE}=`)) cookie = pair!
    }
    return answer
  }
  const headers = (): Record<string, string> => (cookie ? { cookie } : {})
  return {
    get cookie() {
      return cookie
    },
    async login() {
      const answer = remember(await call(emulator.url, '/auth/login', { headers: headers() }))
      return { answer, csrf: /csrf: "([^"]+)"/.exec(answer.text)?.[1] }
    },
    async check(body: unknown) {
      return remember(await call(emulator.url, '/auth/check', { headers: headers(), json: body }))
    },
  }
}

const editorAuth = { user: 'editor', password: 'editor-pass-123' }

describe('1.7 users and password auth [v2]', () => {
  it('there is no /api endpoint taking a username and password: /api/cockpit/authUser → 404', async () => {
    expectEmpty404(await api('/api/cockpit/authUser', { headers: FULL, json: editorAuth }))
  })

  it('GET /auth/login → HTML containing csrf: "<JWT>" plus a session cookie', async () => {
    const session = createSession()
    const { answer, csrf } = await session.login()
    expect(answer.status).toBe(200)
    expect(answer.contentType).toBe(LIME_HTML)
    expect(csrf).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(session.cookie).toMatch(new RegExp(`^${V2_SESSION_COOKIE}=\\w+$`))
  })

  it('POST /auth/check good credentials → 200 {success:true,user:{…},csrf}; no password, apiKey, _reset_token or twofa', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    const answer = await session.check({ auth: editorAuth, csrf })
    expect(answer.status).toBe(200)
    expect(answer.contentType).toBe('application/json')
    const body = answer.json()
    expect(body).toEqual({
      success: true,
      user: { user: 'editor', email: 'editor@example.test', active: true, name: 'Editor User', i18n: 'en', role: 'editor', theme: 'auto', _created: SEED_V2.systemCreated, _modified: SEED_V2.systemCreated, _id: users.editor.id },
      csrf: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
    })
    expect(answer.text).not.toContain(keys.editorUser)
    expect(answer.text).not.toContain('$2y$')
  })

  it('`user` may also be an email', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    const answer = await session.check({ auth: { user: 'editor@example.test', password: 'editor-pass-123' }, csrf })
    expect(answer.json()).toMatchObject({ success: true, user: { user: 'editor' } })
  })

  it.each(['editor\u0000xyz', 'editor\u0000', 'editor\u0000\u0000editor', 'editor@example.test'])('spelling %j logs in as editor (everything from a NUL on is ignored; the email matches `email`)', async (spelling) => {
    const session = createSession()
    const { csrf } = await session.login()
    expect((await session.check({ auth: { user: spelling, password: 'editor-pass-123' }, csrf })).json()).toMatchObject({ success: true, user: { user: 'editor', email: 'editor@example.test' } })
  })

  it.each([' editor', 'editor ', 'editor\t', 'EDITOR', 'Editor', 'EDITOR@example.test', ' editor@example.test', '\u0000editor', 'editor@example.test\u0000', 'editor\u200b'])('spelling %j → 200 {"success":false} (whitespace and case are not ignored)', async (spelling) => {
    const session = createSession()
    const { csrf } = await session.login()
    expectJson(await session.check({ auth: { user: spelling, password: 'editor-pass-123' }, csrf }), 200, '{"success":false}')
  })

  it('every seeded user can log in with its password and gets its role', async () => {
    for (const user of Object.values(users)) {
      const session = createSession()
      const { csrf } = await session.login()
      expect((await session.check({ auth: { user: user.user, password: user.password }, csrf })).json()).toMatchObject({ success: true, user: { role: user.role, email: user.email, name: user.name } })
    }
  })

  it('wrong password → 200 {"success":false}', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    expectJson(await session.check({ auth: { user: 'editor', password: 'nope' }, csrf }), 200, '{"success":false}')
  })

  it('unknown user → 200 {"success":false}', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    expectJson(await session.check({ auth: { user: 'mallory', password: 'x' }, csrf }), 200, '{"success":false}')
  })

  it('missing csrf → 412 {"error":"APP_LOGIN_SESSION_INVALID"}', async () => {
    const session = createSession()
    await session.login()
    expectJson(await session.check({ auth: editorAuth }), 412, '{"error":"APP_LOGIN_SESSION_INVALID"}')
  })

  it('the csrf is single use: reusing it (after a failed attempt) → 412 APP_LOGIN_SESSION_INVALID', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    expectJson(await session.check({ auth: { user: 'editor', password: 'wrong' }, csrf }), 200, '{"success":false}')
    expectJson(await session.check({ auth: editorAuth, csrf }), 412, '{"error":"APP_LOGIN_SESSION_INVALID"}')
  })

  it('the csrf is bound to the cookie\'s session: another session (or no cookie) → 412', async () => {
    const first = createSession()
    const { csrf } = await first.login()
    const second = createSession()
    await second.login()
    expectJson(await second.check({ auth: editorAuth, csrf }), 412, '{"error":"APP_LOGIN_SESSION_INVALID"}')
    expectJson(await call(emulator.url, '/auth/check', { json: { auth: editorAuth, csrf } }), 412, '{"error":"APP_LOGIN_SESSION_INVALID"}')
    expect((await first.check({ auth: editorAuth, csrf })).json().success).toBe(true)
  })

  it('missing auth.user / auth.password → 412, body "Precondition Failed", text/html', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    for (const body of [{ csrf }, { auth: { user: 'editor' }, csrf }, { auth: { password: 'x' }, csrf }]) {
      const answer = await session.check(body)
      expect(answer.status).toBe(412)
      expect(answer.text).toBe('Precondition Failed')
      expect(answer.contentType).toBe(LIME_HTML)
    }
  })

  it('form-encoded auth[user]/auth[password]/csrf works too', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    const answer = await call(emulator.url, '/auth/check', { headers: { cookie: session.cookie }, form: { 'auth[user]': 'guest', 'auth[password]': 'guest-pass-123', 'csrf': csrf! } })
    expect(answer.json()).toMatchObject({ success: true, user: { user: 'guest', role: 'guest' } })
  })

  it('one login per session: once logged in, GET /auth/login → 302 to / (no csrf)', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    await session.check({ auth: editorAuth, csrf })
    const { answer, csrf: none } = await session.login()
    expect(answer.status).toBe(302)
    expect(answer.headers.get('location')).toBe('/')
    expect(none).toBeUndefined()
  })

  it('once logged in, POST /auth/check → 404 {"error": "404", "message":"Requested resource is not available"} text/html;charset=UTF-8, whatever is sent', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    await session.check({ auth: editorAuth, csrf })
    for (const body of [{ auth: editorAuth, csrf }, { auth: { user: 'guest', password: 'guest-pass-123' } }, {}]) {
      const answer = await session.check(body)
      expect(answer.status).toBe(404)
      expect(answer.text).toBe('{"error": "404", "message":"Requested resource is not available"}')
      expect(answer.contentType).toBe(LIME_HTML)
    }
  })

  it('a fresh cookie jar logs in again; no throttling of failed attempts', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const session = createSession()
      const { csrf } = await session.login()
      expect((await session.check({ auth: { user: 'editor', password: 'wrong' }, csrf })).json()).toEqual({ success: false })
    }
    const session = createSession()
    const { csrf } = await session.login()
    expect((await session.check({ auth: editorAuth, csrf })).json().success).toBe(true)
  })

  it('reset() forgets admin sessions', async () => {
    const session = createSession()
    const { csrf } = await session.login()
    await session.check({ auth: editorAuth, csrf })
    await emulator.reset()
    expect((await session.login()).answer.status).toBe(200)
  })
})

describe('emulator harness [v2]', () => {
  it('records every request: method, path, search, lower-case headers, body, time', async () => {
    const before = Date.now()
    await api('/api/content/item/posts?x=1', { headers: FULL, json: { data: { title: 'Recorded' } } })
    expect(emulator.requests).toHaveLength(1)
    const [recorded] = emulator.requests
    expect(recorded).toMatchObject({ method: 'POST', path: '/api/content/item/posts', search: '?x=1', body: '{"data":{"title":"Recorded"}}' })
    expect(recorded!.headers['api-key']).toBe(keys.full)
    expect(recorded!.at).toBeGreaterThanOrEqual(before)
    emulator.clearRequests()
    expect(emulator.requests).toHaveLength(0)
  })

  it('a GET has no recorded body and an empty search when there is no query', async () => {
    await api('/api/system/healthcheck')
    expect(emulator.requests[0]).toEqual({ method: 'GET', path: '/api/system/healthcheck', search: '', headers: expect.any(Object), at: expect.any(Number) })
  })

  it('fault down: the socket is destroyed, no response', async () => {
    emulator.setFault({ kind: 'down' })
    await expect(fetch(`${emulator.url}/api/system/healthcheck`)).rejects.toThrow()
    expect(emulator.requests).toHaveLength(1)
  })

  it('fault status: every call gets that status and an empty body', async () => {
    emulator.setFault({ kind: 'status', status: 503 })
    for (const path of ['/api/system/healthcheck', '/api/content/items/posts', '/auth/login']) {
      const answer = await api(path, { headers: FULL })
      expect(answer.status).toBe(503)
      expect(answer.text).toBe('')
    }
  })

  it('fault delay: answers normally after ms', async () => {
    emulator.setFault({ kind: 'delay', ms: 150 })
    const started = Date.now()
    expectJson(await api('/api/system/healthcheck'), 200, '{"status":"ok"}')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('setFault(null) ends the outage', async () => {
    emulator.setFault({ kind: 'down' })
    emulator.setFault(null)
    expect((await api('/api/system/healthcheck')).status).toBe(200)
  })

  it('reset() restores the seed', async () => {
    await api(`/api/content/item/posts/${posts.hello.id}`, { method: 'DELETE', headers: FULL })
    await api('/api/content/item/posts', { headers: FULL, json: { data: { title: 'Extra' } } })
    await emulator.reset()
    expect(titles((await api('/api/content/items/posts', { headers: FULL })).json())).toEqual(PUBLISHED_TITLES)
  })

  it('dataDir keeps the data across restarts (unstorage fs driver); reset() restores the seed there too', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cockpit-emulator-'))
    try {
      const first = await startEmulator({ version: 2, port: 0, dataDir })
      await call(first.url, '/api/content/item/posts', { headers: FULL, json: { data: { title: 'Persisted' } } })
      await first.close()
      const second = await startEmulator({ version: 2, port: 0, dataDir })
      const listed = await call(second.url, '/api/content/items/posts', { headers: FULL })
      expect(titles(listed.json())).toEqual([...PUBLISHED_TITLES, 'Persisted'])
      await second.reset()
      expect(titles((await call(second.url, '/api/content/items/posts', { headers: FULL })).json())).toEqual(PUBLISHED_TITLES)
      await second.close()
    }
    finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('rejects an unsupported version', async () => {
    await expect(startEmulator({ version: 3 as 2 })).rejects.toThrow(/version/)
  })
})

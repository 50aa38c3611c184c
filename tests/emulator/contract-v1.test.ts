import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '../../emulator/index'
import { SEED_V1, startEmulator } from '../../emulator/index'
import type { Answer, CallOptions } from './http-client'
import { OBJECT_ID, call, qs } from './http-client'

const { keys, users, posts } = SEED_V1
const MASTER = { 'Cockpit-Token': keys.master }
const SPECIAL = { 'Cockpit-Token': keys.special }
const EDITOR = { 'Cockpit-Token': keys.editorAccount }
const GUEST = { 'Cockpit-Token': keys.guestAccount }
const ADMIN = { 'Cockpit-Token': keys.adminAccount }
const UNAUTHORIZED = '{"error":"Unauthorized"}'
const ACL_UNAUTHORIZED = '{"error": "Unauthorized"}'
const COLLECTION_NOT_FOUND = '{"error": "Collection not found"}'
const ALL_TITLES = [posts.hello.title, posts.second.title, posts.third.title]

let emulator: RunningEmulator
const api = (path: string, options?: CallOptions) => call(emulator.url, path, options)
const titles = (entries: Array<Record<string, any>>) => entries.map(entry => entry.title as string)
const entriesOf = (answer: Answer) => answer.json<{ entries: Array<Record<string, any>> }>().entries

function expectJson(answer: Answer, status: number, body: string) {
  expect(answer.status).toBe(status)
  expect(answer.text).toBe(body)
  expect(answer.contentType).toBe('application/json')
}

function expectEmpty(answer: Answer, status: number, contentType: string) {
  expect(answer.status).toBe(status)
  expect(answer.text).toBe('')
  expect(answer.contentType).toBe(contentType)
}

beforeAll(async () => {
  emulator = await startEmulator({ version: 1, port: 0 })
})

afterAll(async () => {
  await emulator.close()
})

beforeEach(async () => {
  emulator.setFault(null)
  emulator.clearRequests()
  await emulator.reset()
})

describe('0. reference seed [v1]', () => {
  it('collection posts holds the three seeded entries', async () => {
    const answer = await api('/api/collections/get/posts', { headers: MASTER })
    expect(answer.status).toBe(200)
    expect(titles(entriesOf(answer))).toEqual(ALL_TITLES)
    expect(entriesOf(answer).map(entry => entry.published)).toEqual([true, true, false])
    expect(entriesOf(answer)[1]).toMatchObject({ _id: posts.second.id, body: '<p>Second post body</p>' })
  })

  it('each seeded account authenticates with its password, group and own key', async () => {
    const accountKeys = { admin: keys.adminAccount, editor: keys.editorAccount, guest: keys.guestAccount }
    for (const user of Object.values(users)) {
      const answer = await api('/api/cockpit/authUser', { headers: MASTER, json: { user: user.user, password: user.password } })
      expect(answer.json()).toMatchObject({ user: user.user, group: user.group, email: user.email, name: user.name, api_key: accountKeys[user.user], _id: user.id })
    }
  })
})

describe('2.1 authentication [v1]', () => {
  it('query param token=<key> → accepted', async () => {
    expect((await api(`/api/collections/get/posts?token=${keys.master}`)).status).toBe(200)
  })

  it('body param "token" in a JSON body → accepted', async () => {
    expect((await api('/api/collections/get/posts', { json: { token: keys.master } })).status).toBe(200)
  })

  it('token param takes precedence over the header: a wrong token with a good Cockpit-Token → 401', async () => {
    expectJson(await api('/api/collections/get/posts?token=wrong', { headers: MASTER }), 401, UNAUTHORIZED)
  })

  it('header Cockpit-Token: <key> → accepted', async () => {
    expect((await api('/api/collections/get/posts', { headers: MASTER })).status).toBe(200)
  })

  it('Authorization: Bearer <key> → accepted', async () => {
    expect((await api('/api/collections/get/posts', { headers: { authorization: `Bearer ${keys.master}` } })).status).toBe(200)
  })

  it('api-key: header (v2 style) → ignored → 401', async () => {
    expectJson(await api('/api/collections/get/posts', { headers: { 'api-key': keys.master } }), 401, UNAUTHORIZED)
  })

  it('none / wrong → 401 {"error":"Unauthorized"}', async () => {
    expectJson(await api('/api/collections/get/posts'), 401, UNAUTHORIZED)
    expectJson(await api('/api/collections/get/posts', { headers: { 'Cockpit-Token': 'wrong' } }), 401, UNAUTHORIZED)
  })

  it('master key: full access, no user (_by null), no ACL', async () => {
    const entry = (await api('/api/collections/save/posts', { headers: MASTER, json: { data: { title: 'By master' } } })).json()
    expect(entry._by).toBeNull()
  })

  it('special key: rules ^/api/collections/(get|entries|entry)/posts match those paths only', async () => {
    expect((await api('/api/collections/get/posts', { headers: SPECIAL })).status).toBe(200)
    expect((await api('/api/collections/entries/posts', { headers: SPECIAL })).status).toBe(200)
    expect((await api(`/api/collections/entry/posts/${posts.hello.id}`, { headers: SPECIAL })).status).toBe(200)
    expectJson(await api('/api/collections/save/posts', { headers: SPECIAL, json: { data: { title: 'x' } } }), 401, UNAUTHORIZED)
    expectJson(await api('/api/collections/listCollections', { headers: SPECIAL }), 401, UNAUTHORIZED)
  })

  it('special key: no user, so no ACL; _by would be null', async () => {
    const answer = await api('/api/collections/entries/posts', { headers: SPECIAL })
    expect(titles(entriesOf(answer))).toEqual(ALL_TITLES)
  })

  it('account key: acts as that user (_by = user _id) with the group ACL', async () => {
    const entry = (await api('/api/collections/save/posts', { headers: EDITOR, json: { data: { title: 'By editor' } } })).json()
    expect(entry._by).toBe(users.editor.id)
  })

  it('account key of group guest (view only): reads allowed, save → 401 {"error": "Unauthorized"}', async () => {
    expect(titles(entriesOf(await api('/api/collections/get/posts', { headers: GUEST })))).toEqual(ALL_TITLES)
    expectJson(await api('/api/collections/save/posts', { headers: GUEST, json: { data: { title: 'x' } } }), 401, ACL_UNAUTHORIZED)
    expectJson(await api('/api/collections/remove/posts', { headers: GUEST, json: { filter: posts.hello.id } }), 401, ACL_UNAUTHORIZED)
  })

  it('account key of group admin: super-admin', async () => {
    const entry = (await api('/api/collections/save/posts', { headers: ADMIN, json: { data: { title: 'By admin' } } })).json()
    expect(entry._by).toBe(users.admin.id)
  })
})

describe('2.2 endpoints [v1]', () => {
  it('/api/collections/get/{name} → {"fields":{title:{name,type,localize,options},…},"entries":[…],"total":N}', async () => {
    const answer = await api('/api/collections/get/posts', { headers: MASTER })
    expect(answer.contentType).toBe('application/json')
    expect(answer.json()).toEqual({
      fields: {
        title: { name: 'title', type: 'text', localize: false, options: [] },
        body: { name: 'body', type: 'wysiwyg', localize: false, options: [] },
        published: { name: 'published', type: 'boolean', localize: false, options: [] },
      },
      entries: expect.any(Array),
      total: 3,
    })
  })

  it('/api/collections/entries/{name} → the same as get', async () => {
    const [get, entries] = await Promise.all([api('/api/collections/get/posts', { headers: MASTER }), api('/api/collections/entries/posts', { headers: MASTER })])
    expect(entries.text).toBe(get.text)
  })

  it('GET and POST both work', async () => {
    expect((await api('/api/collections/get/posts', { method: 'POST', headers: MASTER })).status).toBe(200)
  })

  it('query string bracket syntax filter[published]=true&fields[title]=1', async () => {
    const answer = await api('/api/collections/get/posts?filter[published]=true&fields[title]=1', { headers: MASTER })
    expect(entriesOf(answer)).toEqual([{ _id: posts.hello.id, title: 'Hello Cockpit' }, { _id: posts.second.id, title: 'Second post' }])
  })

  it('params from a JSON body: filter, fields, sort, limit, skip', async () => {
    const answer = await api('/api/collections/get/posts', { headers: MASTER, json: { filter: { published: true }, fields: { title: 1, _id: 0 }, sort: { _created: -1 }, limit: 1, skip: 1 } })
    expect(answer.json()).toMatchObject({ entries: [{ title: 'Hello Cockpit' }], total: 2 })
  })

  it('params from a form body (values stay strings: only the query string gets "true"/numbers cast back)', async () => {
    const answer = await api('/api/collections/get/posts', { headers: MASTER, form: { 'filter[title]': 'Third post' } })
    expect(titles(entriesOf(answer))).toEqual(['Third post'])
    expect(entriesOf(await api('/api/collections/get/posts', { headers: MASTER, form: { 'filter[published]': 'false' } }))).toEqual([])
  })

  it('sort {field:1|-1} (bracket syntax values are strings, cast to int)', async () => {
    expect(titles(entriesOf(await api('/api/collections/get/posts?sort[_created]=-1', { headers: MASTER })))).toEqual([...ALL_TITLES].reverse())
    expect(titles(entriesOf(await api('/api/collections/get/posts?sort[title]=1', { headers: MASTER })))).toEqual(ALL_TITLES)
  })

  it('limit and skip; total counts every entry matching the filter', async () => {
    const answer = await api('/api/collections/get/posts?limit=1&skip=2', { headers: MASTER })
    expect(titles(entriesOf(answer))).toEqual(['Third post'])
    expect(answer.json().total).toBe(3)
  })

  it('filter operators through the query string: $in and $regex', async () => {
    const answer = await api('/api/collections/get/posts?filter[title][$in][]=Hello%20Cockpit&filter[title][$in][]=Third%20post', { headers: MASTER })
    expect(titles(entriesOf(answer))).toEqual(['Hello Cockpit', 'Third post'])
    expect(titles(entriesOf(await api('/api/collections/get/posts?filter[title][$regex]=post', { headers: MASTER })))).toEqual(['Second post', 'Third post'])
  })

  it('filter as a JSON string in the query string', async () => {
    const answer = await api(`/api/collections/get/posts${qs({ filter: '{"published":false}' })}`, { headers: MASTER })
    expect(titles(entriesOf(answer))).toEqual(['Third post'])
  })

  it('simple=1 → the entries list only', async () => {
    const answer = await api('/api/collections/get/posts?simple=1', { headers: MASTER })
    expect(titles(answer.json())).toEqual(ALL_TITLES)
  })

  it('populate and lang are accepted', async () => {
    expect(titles(entriesOf(await api('/api/collections/get/posts?populate=1&lang=de', { headers: MASTER })))).toEqual(ALL_TITLES)
  })

  it('/api/collections/entry/{name}/{id} → 200 {entry}', async () => {
    const answer = await api(`/api/collections/entry/posts/${posts.second.id}`, { headers: MASTER })
    expect(answer.json()).toEqual({ title: 'Second post', body: '<p>Second post body</p>', published: true, _by: users.editor.id, _modified: posts.second.created, _created: posts.second.created, _id: posts.second.id })
  })

  it('/api/collections/entry/{name} + filter → 200 {entry}', async () => {
    const answer = await api('/api/collections/entry/posts?filter[published]=false', { headers: MASTER })
    expect(answer.json()).toMatchObject({ title: 'Third post' })
  })

  it('entry not found → 404 {"error": "Entry not found."}', async () => {
    expectJson(await api('/api/collections/entry/posts/000000000000000000000000', { headers: MASTER }), 404, '{"error": "Entry not found."}')
  })

  it('/api/collections/save/{name} {"data":{…}} creates → 200 {saved entry}', async () => {
    const answer = await api('/api/collections/save/posts', { headers: EDITOR, json: { data: { title: 'Probe v1', body: '<p>p</p>', published: true } } })
    const entry = answer.json()
    expect(Object.keys(entry)).toEqual(['title', 'body', 'published', '_by', '_modified', '_created', '_id'])
    expect(entry._id).toMatch(OBJECT_ID)
    expect(titles(entriesOf(await api('/api/collections/get/posts', { headers: MASTER })))).toContain('Probe v1')
  })

  it('/api/collections/save/{name} {"data":[{…},{…}]} saves several', async () => {
    const answer = await api('/api/collections/save/posts', { headers: MASTER, json: { data: [{ title: 'One' }, { title: 'Two' }] } })
    expect(titles(answer.json())).toEqual(['One', 'Two'])
    expect(entriesOf(await api('/api/collections/get/posts', { headers: MASTER }))).toHaveLength(5)
  })

  it('/api/collections/remove/{name} {"filter":{"_id":…},"count":true} → {"success":true,"count":1}', async () => {
    expectJson(await api('/api/collections/remove/posts', { headers: EDITOR, json: { filter: { _id: posts.hello.id }, count: true } }), 200, '{"success":true,"count":1}')
    expect(titles(entriesOf(await api('/api/collections/get/posts', { headers: MASTER })))).toEqual(['Second post', 'Third post'])
  })

  it('remove with the _id as a string filter, without count → {"success":true,"count":false}', async () => {
    expectJson(await api('/api/collections/remove/posts', { headers: MASTER, json: { filter: posts.third.id } }), 200, '{"success":true,"count":false}')
    expectJson(await api(`/api/collections/entry/posts/${posts.third.id}`, { headers: MASTER }), 404, '{"error": "Entry not found."}')
  })

  it('remove with a field filter removes every match', async () => {
    expectJson(await api('/api/collections/remove/posts', { headers: MASTER, json: { filter: { published: true }, count: true } }), 200, '{"success":true,"count":2}')
  })

  it('/api/collections/listCollections → ["posts"]', async () => {
    expectJson(await api('/api/collections/listCollections', { headers: MASTER }), 200, '["posts"]')
    expectJson(await api('/api/collections/listCollections', { headers: GUEST }), 200, '["posts"]')
  })

  it('/api/collections/collection/{name} → the collection definition', async () => {
    const answer = await api('/api/collections/collection/posts', { headers: MASTER })
    expect(answer.json()).toMatchObject({
      name: 'posts',
      _id: SEED_V1.collectionId,
      fields: [{ name: 'title', type: 'text', required: true }, { name: 'body', type: 'wysiwyg' }, { name: 'published', type: 'boolean' }],
      acl: { editor: { entries_view: true, entries_create: true, entries_edit: true, entries_delete: true }, guest: { entries_view: true } },
    })
    expectJson(await api('/api/collections/collection/nope', { headers: MASTER }), 412, COLLECTION_NOT_FOUND)
  })

  it('action names match in any case (PHP methods)', async () => {
    expectJson(await api('/api/collections/listcollections', { headers: MASTER }), 200, '["posts"]')
  })
})

describe('2.3 entry shape and writes [v1]', () => {
  const save = (data: unknown, headers: Record<string, string> = EDITOR) => api('/api/collections/save/posts', { headers, json: { data } })

  it('entry shape: 24-hex _id, Unix-second _created/_modified, _by; no _state, _cby or _mby', async () => {
    const [entry] = entriesOf(await api('/api/collections/get/posts', { headers: MASTER }))
    expect(entry!._id).toMatch(OBJECT_ID)
    expect(Number.isInteger(entry!._created) && entry!._created < 10_000_000_000).toBe(true)
    expect(entry!._by).toBe(users.editor.id)
    for (const field of ['_state', '_cby', '_mby']) expect(entry).not.toHaveProperty(field)
  })

  it('JSON is encoded like PHP: "/" is escaped', async () => {
    expect((await api(`/api/collections/entry/posts/${posts.second.id}`, { headers: MASTER })).text).toContain('<p>Second post body<\\/p>')
  })

  it('save casts by field type: "true" → true, text "" → null', async () => {
    const entry = (await save({ title: 'Cast', published: 'true', body: '' })).json()
    expect(entry.published).toBe(true)
    expect(entry.body).toBeNull()
    expect((await save({ title: 'Cast 2', published: 'false' })).json().published).toBe(false)
  })

  it('required is enforced on create → 412 {"error":"The title is required!"}', async () => {
    expectJson(await save({ body: '<p>no title</p>' }), 412, '{"error":"The title is required!"}')
    expectJson(await save({ title: '' }), 412, '{"error":"The title is required!"}')
  })

  it('unknown keys are kept ("extra":"kept?" is stored)', async () => {
    const entry = (await save({ title: 'Extra', extra: 'kept?' })).json()
    expect(entry.extra).toBe('kept?')
    expect((await api(`/api/collections/entry/posts/${entry._id}`, { headers: MASTER })).json().extra).toBe('kept?')
  })

  it('_by is overwritten on every API save with the caller\'s user _id (null for master)', async () => {
    const entry = (await save({ title: 'Mine', _by: 'someone' })).json()
    expect(entry._by).toBe(users.editor.id)
    const updated = (await save({ _id: entry._id, title: 'Master touch' }, MASTER)).json()
    expect(updated._by).toBeNull()
    expect((await api(`/api/collections/entry/posts/${entry._id}`, { headers: MASTER })).json()._by).toBeNull()
  })

  it('update (_id) returns the partial doc {"_id","title","_by","_modified"} and merges', async () => {
    const answer = await save({ _id: posts.hello.id, title: 'Probe v1 (upd)' })
    const partial = answer.json()
    expect(Object.keys(partial)).toEqual(['_id', 'title', '_by', '_modified'])
    expect(partial).toMatchObject({ _id: posts.hello.id, title: 'Probe v1 (upd)', _by: users.editor.id })
    const stored = (await api(`/api/collections/entry/posts/${posts.hello.id}`, { headers: MASTER })).json()
    expect(stored).toMatchObject({ title: 'Probe v1 (upd)', body: posts.hello.body, published: true, _created: posts.hello.created })
  })

  it('updating an _id that does not exist → 404, empty body', async () => {
    const answer = await save({ _id: '0123456789abcdef01234567', title: 'Ghost' })
    expect(answer.status).toBe(404)
    expect(answer.text).toBe('')
  })

  it('data missing or malformed JSON → 404, empty body, application/json', async () => {
    expectEmpty(await api('/api/collections/save/posts', { headers: EDITOR, json: {} }), 404, 'application/json')
    expectEmpty(await api('/api/collections/save/posts', { method: 'POST', headers: { ...EDITOR, 'content-type': 'application/json' }, body: '{"data":' }), 404, 'application/json')
  })

  it('unknown collection → 412 {"error": "Collection not found"} (with a space)', async () => {
    expectJson(await api('/api/collections/get/nope', { headers: MASTER }), 412, COLLECTION_NOT_FOUND)
    expectJson(await api('/api/collections/save/nope', { headers: MASTER, json: { data: { title: 'x' } } }), 412, COLLECTION_NOT_FOUND)
    expectJson(await api('/api/collections/remove/nope', { headers: MASTER, json: { filter: 'x' } }), 412, COLLECTION_NOT_FOUND)
  })

  it('save without ACL (guest account key) → 401 {"error": "Unauthorized"} (with a space); reads allowed by entries_view', async () => {
    expectJson(await save({ title: 'x' }, GUEST), 401, ACL_UNAUTHORIZED)
    expect((await api(`/api/collections/entry/posts/${posts.hello.id}`, { headers: GUEST })).status).toBe(200)
  })

  it('special key outside its rules → 401 {"error":"Unauthorized"} (no space)', async () => {
    expectJson(await api('/api/collections/remove/posts', { headers: SPECIAL, json: { filter: posts.hello.id } }), 401, UNAUTHORIZED)
  })

  it('remove without a filter → 417 {"error": "Please provide a collection name and filter"}', async () => {
    expectJson(await api('/api/collections/remove/posts', { headers: MASTER, json: {} }), 417, '{"error": "Please provide a collection name and filter"}')
  })

  it('unknown resource (/api/foo/bar) → 404 text/html, empty', async () => {
    expectEmpty(await api('/api/foo/bar', { headers: MASTER }), 404, 'text/html;charset=UTF-8')
  })

  it('unknown action (/api/collections/nope/posts) → 404 application/json, empty', async () => {
    expectEmpty(await api('/api/collections/nope/posts', { headers: MASTER }), 404, 'application/json')
  })

  it('v2 paths are unknown resources here', async () => {
    expectEmpty(await api('/api/content/items/posts', { headers: MASTER }), 404, 'text/html;charset=UTF-8')
  })

  it('CORS: OPTIONS → 200 empty; Access-Control-Allow-Headers ends with Cockpit-Token', async () => {
    const answer = await api('/api/collections/get/posts', { method: 'OPTIONS' })
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('')
    expect(answer.headers.get('access-control-allow-headers')).toBe('X-Requested-With, Content-Type, Origin, Cache-Control, Pragma, Authorization, Accept, Accept-Encoding, Cockpit-Token')
    const denied = await api('/api/collections/get/posts')
    expect(denied.headers.get('access-control-allow-origin')).toBe('*')
  })

  it('an unknown filter operator → 500 system error', async () => {
    const answer = await api('/api/collections/get/posts', { headers: MASTER, json: { filter: { title: { $bogus: 1 } } } })
    expect(answer.status).toBe(500)
    expect(answer.text).toBe('{"error": "500", "message": "system error"}')
  })
})

describe('2.4 user auth [v1]', () => {
  const authUser = (body: unknown, headers: Record<string, string> = MASTER) => api('/api/cockpit/authUser', { headers, json: body })

  it('POST /api/cockpit/authUser?token=<master> → 200 user record including api_key', async () => {
    const answer = await api(`/api/cockpit/authUser?token=${keys.master}`, { json: { user: 'editor', password: 'editor-pass-123' } })
    expect(answer.status).toBe(200)
    expect(answer.json()).toEqual({
      user: 'editor', email: 'editor@example.test', group: 'editor', name: 'Editor User', active: true, i18n: 'en',
      api_key: 'account-74c726f8de971e05e5523934918f7058', _created: SEED_V1.systemCreated, _modified: SEED_V1.systemCreated, _id: users.editor.id,
    })
    expect(answer.text).not.toContain('password')
  })

  it('with an account key → 200 as well', async () => {
    expect((await authUser({ user: 'editor', password: 'editor-pass-123' }, EDITOR)).json().api_key).toBe(keys.editorAccount)
  })

  it('generateApiKey:true → a new account- key is created, saved and returned', async () => {
    const answer = await authUser({ user: 'editor', password: 'editor-pass-123', generateApiKey: true })
    const fresh = answer.json().api_key as string
    expect(fresh).toMatch(/^account-[0-9a-f]{32}$/)
    expect(fresh).not.toBe(keys.editorAccount)
    expect((await api('/api/collections/get/posts', { headers: { 'Cockpit-Token': fresh } })).status).toBe(200)
    expectJson(await api('/api/collections/get/posts', { headers: EDITOR }), 401, UNAUTHORIZED)
    expect((await authUser({ user: 'editor', password: 'editor-pass-123' })).json().api_key).toBe(fresh)
  })

  it('wrong password → 401 {"error":"Authentication failed"}', async () => {
    expectJson(await authUser({ user: 'editor', password: 'wrong' }), 401, '{"error":"Authentication failed"}')
  })

  it('missing user or password → 412 {"error":"Missing user or password"}', async () => {
    expectJson(await authUser({ user: 'editor' }), 412, '{"error":"Missing user or password"}')
    expectJson(await authUser({ password: 'x' }), 412, '{"error":"Missing user or password"}')
  })

  it('no token → 401 {"error":"Unauthorized"}', async () => {
    expectJson(await api('/api/cockpit/authUser', { json: { user: 'editor', password: 'editor-pass-123' } }), 401, UNAUTHORIZED)
  })

  it('a special key whose rules do not cover /api/cockpit/authUser → 401', async () => {
    expectJson(await authUser({ user: 'editor', password: 'editor-pass-123' }, SPECIAL), 401, UNAUTHORIZED)
  })

  it('matching is on username only: an email in user → 401', async () => {
    expectJson(await authUser({ user: 'editor@example.test', password: 'editor-pass-123' }), 401, '{"error":"Authentication failed"}')
  })

  it.each(['editor\u0000xyz', 'editor\u0000', ' editor', 'editor ', 'editor\t', 'EDITOR', 'editor@example.test'])('matching is exact: spelling %j → 401 {"error":"Authentication failed"}', async (spelling) => {
    expectJson(await authUser({ user: spelling, password: 'editor-pass-123' }), 401, '{"error":"Authentication failed"}')
  })

  it('any account key may authenticate another user (the editor\'s key authenticates guest)', async () => {
    const answer = await authUser({ user: 'guest', password: 'guest-pass-123' }, EDITOR)
    expect(answer.json()).toMatchObject({ user: 'guest', group: 'guest', api_key: keys.guestAccount })
  })

  it('saveUser with the master key creates an admin user (observed)', async () => {
    const answer = await api(`/api/cockpit/saveUser?token=${keys.master}`, { json: { user: { user: 'mallory', password: 'mallory-pass', email: 'mallory@example.test', group: 'admin' } } })
    expect(answer.status).toBe(200)
    const created = answer.json()
    expect(created).toMatchObject({ user: 'mallory', email: 'mallory@example.test', group: 'admin', active: true })
    expect(created._id).toMatch(OBJECT_ID)
    expect(created).not.toHaveProperty('password')
    expect((await authUser({ user: 'mallory', password: 'mallory-pass' })).json()).toMatchObject({ group: 'admin' })
  })

  it('saveUser with an account key: a non-admin updates only itself, group changes stripped', async () => {
    const answer = await api('/api/cockpit/saveUser', { headers: EDITOR, json: { user: { _id: users.editor.id, name: 'Renamed', group: 'admin' } } })
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ _id: users.editor.id, name: 'Renamed' })
    expect(answer.json()).not.toHaveProperty('group')
    expect((await authUser({ user: 'editor', password: 'editor-pass-123' })).json()).toMatchObject({ name: 'Renamed', group: 'editor' })
  })

  it('saveUser with an account key: updating another user → 401; creating users → 401', async () => {
    expectEmpty(await api('/api/cockpit/saveUser', { headers: EDITOR, json: { user: { _id: users.guest.id, name: 'x' } } }), 401, 'application/json')
    expectEmpty(await api('/api/cockpit/saveUser', { headers: EDITOR, json: { user: { user: 'eve', password: 'p', email: 'eve@example.test' } } }), 401, 'application/json')
  })

  it('saveUser: a new password is stored as a $2y$ hash and works', async () => {
    await api('/api/cockpit/saveUser', { headers: GUEST, json: { user: { _id: users.guest.id, password: 'new-guest-pass' } } })
    expect((await authUser({ user: 'guest', password: 'new-guest-pass' })).status).toBe(200)
    expect((await authUser({ user: 'guest', password: 'guest-pass-123' })).status).toBe(401)
  })

  it('saveUser errors: 412 User password required / Username is already used! / Email is already used!', async () => {
    const saveUser = (user: unknown) => api('/api/cockpit/saveUser', { headers: MASTER, json: { user } })
    expectJson(await saveUser({ user: 'nopass', email: 'n@example.test' }), 412, '{"error":"User password required"}')
    expectJson(await saveUser({ user: 'editor', password: 'p', email: 'other@example.test' }), 412, '{"error":"Username is already used!"}')
    expectJson(await saveUser({ user: 'other', password: 'p', email: 'editor@example.test' }), 412, '{"error":"Email is already used!"}')
  })

  it('listUsers with the master key → users without password or api_key', async () => {
    const answer = await api('/api/cockpit/listUsers', { headers: MASTER })
    const listed = answer.json<Array<Record<string, unknown>>>()
    expect(listed.map(user => user.user)).toEqual(['admin', 'editor', 'guest'])
    expect(answer.text).not.toContain('password')
    expect(answer.text).not.toContain('api_key')
  })

  it('listUsers with an account of a group without cockpit.accounts → 401; an admin account may', async () => {
    expectJson(await api('/api/cockpit/listUsers', { headers: EDITOR }), 401, UNAUTHORIZED)
    expect((await api('/api/cockpit/listUsers', { headers: ADMIN })).status).toBe(200)
  })
})

describe('emulator harness [v1]', () => {
  it('records the token in a header (never in the query) when sent that way', async () => {
    await api('/api/collections/get/posts', { headers: MASTER })
    const [recorded] = emulator.requests
    expect(recorded!.headers['cockpit-token']).toBe(keys.master)
    expect(recorded!.search).toBe('')
  })

  it('fault status and fault down', async () => {
    emulator.setFault({ kind: 'status', status: 502 })
    expectEmpty(await api('/api/collections/get/posts', { headers: MASTER }), 502, null as unknown as string)
    emulator.setFault({ kind: 'down' })
    await expect(fetch(`${emulator.url}/api/collections/get/posts`)).rejects.toThrow()
  })

  it('reset() restores entries and accounts', async () => {
    await api('/api/collections/remove/posts', { headers: MASTER, json: { filter: { published: true } } })
    await api('/api/cockpit/authUser', { headers: MASTER, json: { user: 'editor', password: 'editor-pass-123', generateApiKey: true } })
    await emulator.reset()
    expect(titles(entriesOf(await api('/api/collections/get/posts', { headers: EDITOR })))).toEqual(ALL_TITLES)
  })
})

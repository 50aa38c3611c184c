import bcrypt from 'bcryptjs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '../../emulator/index'
import { SEED_V1, startEmulator } from '../../emulator/index'
import type { Answer, CallOptions } from './http-client'
import { OBJECT_ID, call, qs } from './http-client'

const { keys, users } = SEED_V1
const MASTER = { 'Cockpit-Token': keys.master }
const SPECIAL = { 'Cockpit-Token': keys.special }
const EDITOR = { 'Cockpit-Token': keys.editorAccount }
const GUEST = { 'Cockpit-Token': keys.guestAccount }
const ADMIN = { 'Cockpit-Token': keys.adminAccount }
const UNAUTHORIZED = '{"error":"Unauthorized"}'
const LIME_HTML = 'text/html;charset=UTF-8'
const SETTINGS_VALUE = `{"siteTitle":"Acceptance Site","tagline":"Real Cockpit, seeded for acceptance tests","_mby":"${users.admin.id}","_by":"${users.admin.id}"}`
const ADA = { name: 'Ada', email: 'ada@example.test', message: 'Hello v1' }
/** What PHP's `password_hash("contact", PASSWORD_BCRYPT)` gives: anyone can compute it. */
const FORGED_CSRF = bcrypt.hashSync('contact', 10).replace(/^\$2a\$/, '$2y$')

let emulator: RunningEmulator
const api = (path: string, options?: CallOptions) => call(emulator.url, path, options)
const exportEntries = async () => (await api('/api/forms/export/contact', { headers: MASTER })).json<Array<Record<string, unknown>>>()

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
  await emulator.reset()
})

describe('4.2 [v1] singletons', () => {
  it.each([['master key', MASTER], ['read key', SPECIAL], ['editor account key', EDITOR], ['guest account key (acl data)', GUEST], ['admin account key', ADMIN]])(
    'GET /api/singletons/get/settings with the %s → 200 the value (values, _mby, _by; no _id/_state/_created)', async (_name, headers) => {
      expectJson(await api('/api/singletons/get/settings', { headers }), 200, SETTINGS_VALUE)
    },
  )

  it('no token / bad token → 401 {"error":"Unauthorized"}', async () => {
    expectJson(await api('/api/singletons/get/settings'), 401, UNAUTHORIZED)
    expectJson(await api('/api/singletons/get/settings', { headers: { 'Cockpit-Token': 'nope' } }), 401, UNAUTHORIZED)
  })

  it('read key outside its rules (/api/singletons/listSingletons) → 401', async () => {
    expectJson(await api('/api/singletons/listSingletons', { headers: SPECIAL }), 401, UNAUTHORIZED)
  })

  it('unknown singleton → 404, empty, text/html;charset=UTF-8', async () => {
    expectEmpty(await api('/api/singletons/get/nosuchsingleton', { headers: MASTER }), 404, LIME_HTML)
  })

  it('field path /get/settings/siteTitle → 200 the raw value as text/html; unknown field → 404 empty', async () => {
    const answer = await api('/api/singletons/get/settings/siteTitle', { headers: SPECIAL })
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('Acceptance Site')
    expect(answer.contentType).toBe(LIME_HTML)
    expectEmpty(await api('/api/singletons/get/settings/noSuchField', { headers: MASTER }), 404, LIME_HTML)
  })

  it('lang, populate, ignoreDefaultFallback accepted; fields ignored', async () => {
    expectJson(await api(`/api/singletons/get/settings${qs({ lang: 'de', populate: 1, ignoreDefaultFallback: 1 })}`, { headers: MASTER }), 200, SETTINGS_VALUE)
    expectJson(await api('/api/singletons/get/settings?fields[siteTitle]=1', { headers: MASTER }), 200, SETTINGS_VALUE)
  })

  it('listSingletons (master) → ["settings"]; singleton/settings → the definition', async () => {
    expectJson(await api('/api/singletons/listSingletons', { headers: MASTER }), 200, '["settings"]')
    const definition = await api('/api/singletons/singleton/settings', { headers: MASTER })
    expect(definition.status).toBe(200)
    expect(definition.json()).toMatchObject({
      name: 'settings',
      label: 'Settings',
      _id: 'settings',
      fields: [{ name: 'siteTitle', type: 'text', label: 'Site title' }, { name: 'tagline', type: 'text', label: 'Tagline' }],
      data: null,
      acl: { editor: { form: true, data: true }, guest: { data: true } },
    })
  })

  it('an account whose group has neither data nor form → 401 {"error": "Unauthorized"}', async () => {
    const created = await api('/api/cockpit/saveUser', { headers: MASTER, json: { user: { user: 'outsider', password: 'outsider-pass-1', email: 'outsider@example.test', group: 'author' } } })
    expect(created.status).toBe(200)
    const account = await api('/api/cockpit/authUser', { headers: MASTER, json: { user: 'outsider', password: 'outsider-pass-1', generateApiKey: true } })
    const outsider = { 'Cockpit-Token': account.json<{ api_key: string }>().api_key }
    expectJson(await api('/api/singletons/get/settings', { headers: outsider }), 401, '{"error": "Unauthorized"}')
  })

  it('no REST write: POST /api/singletons/save/settings → 404, empty; the value is unchanged', async () => {
    const answer = await api('/api/singletons/save/settings', { headers: MASTER, json: { data: { siteTitle: 'Hacked' } } })
    expect(answer.status).toBe(404)
    expect(answer.text).toBe('')
    expectJson(await api('/api/singletons/get/settings', { headers: MASTER }), 200, SETTINGS_VALUE)
  })
})

describe('5.2 [v1] forms: /api/forms/submit/{form}', () => {
  it('master token, JSON {"form":{…}} → 200 an echo of form, no _id; stored as {data,_modified,_created,_id}', async () => {
    expectJson(await api('/api/forms/submit/contact', { headers: MASTER, json: { form: ADA } }), 200, JSON.stringify(ADA))
    const [entry, ...more] = await exportEntries()
    expect(more).toEqual([])
    expect(Object.keys(entry!)).toEqual(['data', '_modified', '_created', '_id'])
    expect(entry!.data).toEqual(ADA)
    expect(entry!._id).toMatch(OBJECT_ID)
    expect(entry!._created).toBe(entry!._modified)
  })

  it('form-encoded form[name]=…, and GET with the same query parameters → 200', async () => {
    expectJson(await api(`/api/forms/submit/contact?token=${keys.master}`, { form: { 'form[name]': 'Ada', 'form[email]': 'ada@example.test', 'form[message]': 'Hello v1' } }), 200, JSON.stringify(ADA))
    expectJson(await api(`/api/forms/submit/contact${qs({ 'token': keys.master, 'form[name]': 'Ada', 'form[email]': 'ada@example.test', 'form[message]': 'Hello v1' })}`), 200, JSON.stringify(ADA))
    expect((await exportEntries()).map(entry => entry.data)).toEqual([ADA, ADA])
  })

  it('no token → 401 {"error":"Unauthorized"}; the read key → 401; nothing stored', async () => {
    expectJson(await api('/api/forms/submit/contact', { json: { form: ADA } }), 401, UNAUTHORIZED)
    expectJson(await api('/api/forms/submit/contact', { headers: SPECIAL, json: { form: ADA } }), 401, UNAUTHORIZED)
    expect(await exportEntries()).toEqual([])
  })

  it('any account key (the editor\'s, the guest\'s) → 200: no forms ACL', async () => {
    expect((await api('/api/forms/submit/contact', { headers: EDITOR, json: { form: ADA } })).status).toBe(200)
    expect((await api('/api/forms/submit/contact', { headers: GUEST, json: { form: ADA } })).status).toBe(200)
    expect(await exportEntries()).toHaveLength(2)
  })

  it('no token but __csrf = bcrypt("contact"), form-encoded or JSON → 200 and stored (unauthenticated submit)', async () => {
    expectJson(await api('/api/forms/submit/contact', { form: { '__csrf': FORGED_CSRF, 'form[name]': 'Mallory' } }), 200, '{"name":"Mallory"}')
    expectJson(await api('/api/forms/submit/contact', { json: { __csrf: bcrypt.hashSync('contact', 4), form: { name: 'Eve' } } }), 200, '{"name":"Eve"}')
    expect((await exportEntries()).map(entry => entry.data)).toEqual([{ name: 'Mallory' }, { name: 'Eve' }])
  })

  it('a wrong __csrf (another form\'s hash, junk, or an absurd cost) → 404, empty, text/html; nothing stored', async () => {
    for (const csrf of [bcrypt.hashSync('other', 4), 'junk', `$2y$31$${'a'.repeat(53)}`]) {
      expectEmpty(await api('/api/forms/submit/contact', { json: { __csrf: csrf, form: ADA } }), 404, LIME_HTML)
    }
    expect(await exportEntries()).toEqual([])
  })

  it('{"form":{}} or a body without form → 404, empty, text/html', async () => {
    expectEmpty(await api('/api/forms/submit/contact', { headers: MASTER, json: { form: {} } }), 404, LIME_HTML)
    expectEmpty(await api('/api/forms/submit/contact', { headers: MASTER, json: { name: 'Ada' } }), 404, LIME_HTML)
    expect(await exportEntries()).toEqual([])
  })

  it('only some fields → 200: no validation', async () => {
    expectJson(await api('/api/forms/submit/contact', { headers: MASTER, json: { form: { name: 'x' } } }), 200, '{"name":"x"}')
  })

  it('unknown form → 404, empty (with a token, and with that form\'s forged __csrf)', async () => {
    expectEmpty(await api('/api/forms/submit/nosuchform', { headers: MASTER, json: { form: ADA } }), 404, LIME_HTML)
    expectEmpty(await api('/api/forms/submit/nosuchform', { json: { __csrf: bcrypt.hashSync('nosuchform', 4), form: ADA } }), 404, LIME_HTML)
  })

  it('export: master and admin accounts → 200 [entry,…]; a non-admin account → 401 Unauthorized (text/html); read key → 401 JSON', async () => {
    await api('/api/forms/submit/contact', { headers: MASTER, json: { form: ADA } })
    expect((await api('/api/forms/export/contact', { headers: ADMIN })).json()).toHaveLength(1)
    const editor = await api('/api/forms/export/contact', { headers: EDITOR })
    expect([editor.status, editor.text, editor.contentType]).toEqual([401, 'Unauthorized', LIME_HTML])
    expectJson(await api('/api/forms/export/contact', { headers: SPECIAL }), 401, UNAUTHORIZED)
  })

  it('no REST delete of entries: /api/forms/remove/contact → 404, entries stay', async () => {
    await api('/api/forms/submit/contact', { headers: MASTER, json: { form: ADA } })
    expect((await api('/api/forms/remove/contact', { headers: MASTER, json: { filter: {} } })).status).toBe(404)
    expect(await exportEntries()).toHaveLength(1)
  })
})

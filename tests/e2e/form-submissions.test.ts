import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EMULATOR_KEYS } from '../../scripts/embedded-cockpit'
import { readStoredMessages } from '../support/emulator-store'
import { findLeaks, startGateway, TestBrowser, TEST_SESSION_PASSWORD } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

// Public form submissions (anonymous visitors) over HTTP against the built server and the emulator: what is
// stored (exactly once, with the fields the gateway decides), and every defence refusing with its stable code
// while storing nothing. Each test sends from its own client address (X-Forwarded-For, one trusted hop), so
// the per-IP limit of one test does not spill into the next.
const FORM = '/api/cockpit/forms/contact'
const TOKEN = `${FORM}/token`
const MESSAGE = { name: 'Ada', email: 'ada@example.test', message: 'Hello from the contact form' }
const ENV = {
  NUXT_COCKPIT_GATEWAY_TRUST_PROXY: '1',
  NUXT_COCKPIT_GATEWAY_FORMS_MIN_SUBMIT_TIME: '1',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_SUBMIT_LIMIT: '3',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_SUBMIT_FORM_LIMIT: '1000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '10000',
}

let lastAddress = 0
/** A client address no other test uses. */
const nextAddress = () => `198.51.100.${++lastAddress}`
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** A token signed with the server's secret (the session password), as the gateway would issue it at `issuedAt`. */
function forgeToken(form: string, issuedAt: number, password = TEST_SESSION_PASSWORD): string {
  const time = issuedAt.toString(36)
  const nonce = 'AAAAAAAAAAAAAAAA'
  const mac = createHmac('sha256', password).update(`cockpit-gateway:submission-token:v1:${form}.${time}.${nonce}`).digest('base64url')
  return `${time}.${nonce}.${mac}`
}

/** Messages as stored in the emulator, read with the full key (v2 items of `messages`, v1 entries of the form `contact`). */
async function storedMessages(gateway: RunningGateway, version: 1 | 2): Promise<Record<string, unknown>[]> {
  const { status, docs } = await readStoredMessages(gateway.emulator, version)
  expect(status).toBe(200)
  return docs
}

describe.each([2, 1] as const)('public form submissions against Cockpit v%i', (version) => {
  const exchanges: RecordedExchange[] = []
  let gateway: RunningGateway
  let token: string
  const browser = () => new TestBrowser(gateway, exchanges)
  const from = (address: string) => ({ 'x-forwarded-for': address })
  const submissions = () => gateway.emulator.requests.filter(r => r.method === 'POST' && (version === 2 ? r.path.startsWith('/api/content/item/') : r.path.startsWith('/api/forms/')))
  const stored = () => storedMessages(gateway, version)

  beforeAll(async () => {
    gateway = await startGateway({ version, env: ENV })
    const issued = await browser().request(TOKEN, { headers: from('192.0.2.1') })
    token = issued.json().token
    // A token is accepted once `minSubmitTime` (1 s here) has passed since it was issued, and may be reused.
    await sleep(1100)
  })
  afterAll(async () => {
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
    await gateway.stop()
  })

  it('issues tokens that are never cached, for declared forms only', async () => {
    const issued = await browser().request(TOKEN, { headers: from(nextAddress()) })
    expect(issued.status).toBe(200)
    expect(issued.headers.get('cache-control')).toBe('no-store')
    const body = issued.json()
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'minSubmitTime', 'token'])
    expect(body.minSubmitTime).toBe(1)
    expect(body.token).not.toBe(token)
    const unknown = await browser().request('/api/cockpit/forms/nope/token')
    expect(unknown.status).toBe(404)
    expect(unknown.json().data.code).toBe('FORM_NOT_FOUND')
  })

  it('stores a JSON submission exactly once, with the submit key and the fields the gateway decides', async () => {
    gateway.emulator.clearRequests()
    const before = await stored()
    const response = await browser().request(FORM, { json: { ...MESSAGE, _token: token, website: '' }, headers: from(nextAddress()) })
    expect(response.status).toBe(201)
    expect(response.json()).toEqual({ ok: true })
    const calls = submissions()
    expect(calls).toHaveLength(1)
    const after = await stored()
    expect(after).toHaveLength(before.length + 1)
    const added = after.find(doc => !before.some(old => old._id === doc._id))!
    if (version === 2) {
      expect(calls[0]!.path).toBe('/api/content/item/messages')
      expect(calls[0]!.headers['api-key']).toBe(EMULATOR_KEYS[2].submit)
      // Only the schema's fields and the gateway's `_state`: no token, no honeypot.
      expect(JSON.parse(calls[0]!.body!)).toEqual({ data: { ...MESSAGE, _state: 1 } })
      expect(added).toMatchObject({ ...MESSAGE, _state: 1, _cby: null })
    }
    else {
      expect(calls[0]!.path).toBe('/api/forms/submit/contact')
      expect(calls[0]!.headers['cockpit-token']).toBe(EMULATOR_KEYS[1].submit)
      expect(JSON.parse(calls[0]!.body!)).toEqual({ form: MESSAGE })
      expect(added.data).toEqual(MESSAGE)
    }
  })

  it('takes a form post without JavaScript: 303 to a same-site thank-you page, or back with ?error=', async () => {
    const before = (await stored()).length
    const sent = await browser().request(FORM, { form: { ...MESSAGE, message: 'No JavaScript here', _token: token, website: '', _success: '/contact/thanks', _back: '/contact' }, headers: from(nextAddress()) })
    expect(sent.status).toBe(303)
    expect(sent.headers.get('location')).toBe('/contact/thanks')
    const after = await stored()
    expect(after).toHaveLength(before + 1)
    expect(JSON.stringify(after)).toContain('No JavaScript here')
    // Another site as the target is not followed.
    const offsite = await browser().request(FORM, { form: { ...MESSAGE, _token: token, _success: '//evil.example/x' }, headers: from(nextAddress()) })
    expect(offsite.status).toBe(303)
    expect(offsite.headers.get('location')).toBe('/')
    // A refusal goes back to the form with its code, and the typed text stays out of the URL.
    const refused = await browser().request(FORM, { form: { ...MESSAGE, _token: 'forged', _success: '/contact/thanks', _back: '/contact' }, headers: from(nextAddress()) })
    expect(refused.status).toBe(303)
    expect(refused.headers.get('location')).toBe('/contact?error=FORM_TOKEN_INVALID')
    expect(await stored()).toHaveLength(before + 2)
  })

  it('answers a filled honeypot like a success and stores nothing', async () => {
    gateway.emulator.clearRequests()
    const before = (await stored()).length
    const json = await browser().request(FORM, { json: { ...MESSAGE, _token: token, website: 'http://spam.example' }, headers: from(nextAddress()) })
    expect(json.status).toBe(201)
    expect(json.json()).toEqual({ ok: true })
    const form = await browser().request(FORM, { form: { ...MESSAGE, _token: token, website: 'spam', _success: '/contact/thanks' }, headers: from(nextAddress()) })
    expect(form.status).toBe(303)
    expect(form.headers.get('location')).toBe('/contact/thanks')
    expect(submissions()).toHaveLength(0)
    expect(await stored()).toHaveLength(before)
  })

  it('refuses a submission sent too soon after its token, with the wait', async () => {
    const address = nextAddress()
    const fresh = (await browser().request(TOKEN, { headers: from(address) })).json().token
    const before = (await stored()).length
    const json = await browser().request(FORM, { json: { ...MESSAGE, _token: fresh }, headers: from(address) })
    expect(json.status).toBe(429)
    expect(json.json().data).toEqual({ code: 'FORM_TOO_FAST', retryAfter: 1 })
    expect(json.headers.get('retry-after')).toBe('1')
    const form = await browser().request(FORM, { form: { ...MESSAGE, _token: fresh, _back: '/contact' }, headers: from(address) })
    expect(form.headers.get('location')).toBe('/contact?error=FORM_TOO_FAST&retryAfter=1')
    expect(await stored()).toHaveLength(before)
  })

  it('refuses expired, forged, missing and other forms\' tokens', async () => {
    const before = (await stored()).length
    const send = async (value: unknown) => (await browser().request(FORM, { json: { ...MESSAGE, _token: value }, headers: from(nextAddress()) })).json()
    // Signed with the right secret, but issued longer ago than the default 2 h.
    expect((await send(forgeToken('contact', Date.now() - 3 * 3600_000))).data.code).toBe('FORM_TOKEN_EXPIRED')
    // The same algorithm with the right secret is accepted (so the refusals below are about the token alone).
    expect((await browser().request(FORM, { json: { ...MESSAGE, _token: forgeToken('contact', Date.now() - 60_000) }, headers: from(nextAddress()) })).status).toBe(201)
    expect((await send(forgeToken('contact', Date.now() - 60_000, 'another-password-0123456789-abcdefghijklmnop'))).data.code).toBe('FORM_TOKEN_INVALID')
    expect((await send(forgeToken('other', Date.now() - 60_000))).data.code).toBe('FORM_TOKEN_INVALID')
    const [time, nonce, mac] = token.split('.')
    expect((await send(`${(Number.parseInt(time!, 36) - 5000).toString(36)}.${nonce}.${mac}`)).data.code).toBe('FORM_TOKEN_INVALID')
    expect((await send(undefined)).data.code).toBe('FORM_TOKEN_INVALID')
    expect((await send(123)).data.code).toBe('FORM_TOKEN_INVALID')
    const refused = await browser().request(FORM, { json: { ...MESSAGE, _token: 'x.y.z' }, headers: from(nextAddress()) })
    expect(refused.status).toBe(403)
    expect(await stored()).toHaveLength(before + 1)
  })

  it('refuses unknown fields, system fields, operator objects and anything but plain values (422), storing nothing', async () => {
    gateway.emulator.clearRequests()
    const before = (await stored()).length
    const bodies = [
      { ...MESSAGE, notAField: 1 },
      { ...MESSAGE, _state: 0 },
      { ...MESSAGE, _cby: 'x' },
      { ...MESSAGE, name: { $gt: '' } },
      { ...MESSAGE, email: ['a@example.test', 'b@example.test'] },
      { ...MESSAGE, email: 'not an address' },
      { name: 'Ada' },
    ]
    for (const body of bodies) {
      const response = await browser().request(FORM, { json: { ...body, _token: token }, headers: from(nextAddress()) })
      expect(response.status, JSON.stringify(body)).toBe(422)
      expect(response.json().data.code).toBe('VALIDATION_FAILED')
      expect(response.text).not.toContain('$gt')
    }
    const list = await browser().request(FORM, { body: '[1,2]', headers: { ...from(nextAddress()), 'content-type': 'application/json' } })
    expect(list.status).toBe(422)
    expect(submissions()).toHaveLength(0)
    expect(await stored()).toHaveLength(before)
  })

  it('limits submissions per client address (429 with Retry-After), counting refused ones too', async () => {
    const address = nextAddress()
    for (let i = 0; i < 3; i++) {
      expect((await browser().request(FORM, { json: { ...MESSAGE, _token: 'forged' }, headers: from(address) })).status).toBe(403)
    }
    const limited = await browser().request(FORM, { json: { ...MESSAGE, _token: token }, headers: from(address) })
    expect(limited.status).toBe(429)
    expect(limited.json().data.code).toBe('RATE_LIMITED')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another address is not affected.
    expect((await browser().request(FORM, { json: { ...MESSAGE, _token: token }, headers: from(nextAddress()) })).status).toBe(201)
  })

  it('refuses a body over the forms\' size cap (413), JSON and urlencoded alike', async () => {
    const before = (await stored()).length
    const big = 'x'.repeat(9000)
    const json = await browser().request(FORM, { json: { ...MESSAGE, message: big, _token: token }, headers: from(nextAddress()) })
    expect(json.status).toBe(413)
    expect(json.json().data.code).toBe('PAYLOAD_TOO_LARGE')
    const form = await browser().request(FORM, { form: { ...MESSAGE, message: big, _token: token }, headers: from(nextAddress()) })
    expect(form.status).toBe(413)
    expect(await stored()).toHaveLength(before)
  })

  it('refuses cross-site and non-form bodies (403, 415)', async () => {
    const before = (await stored()).length
    const crossSite = await browser().request(FORM, { json: { ...MESSAGE, _token: token }, origin: 'https://evil.example', headers: from(nextAddress()) })
    expect(crossSite.status).toBe(403)
    expect(crossSite.json().data.code).toBe('ORIGIN_MISMATCH')
    const crossSiteForm = await browser().request(FORM, { form: { ...MESSAGE, _token: token, _back: '/contact' }, origin: 'https://evil.example', headers: from(nextAddress()) })
    expect(crossSiteForm.status).toBe(403)
    const noOrigin = await browser().request(FORM, { json: { ...MESSAGE, _token: token }, origin: null, headers: from(nextAddress()) })
    expect(noOrigin.json().data.code).toBe('ORIGIN_REQUIRED')
    const text = await browser().request(FORM, { body: 'name=Ada', headers: { ...from(nextAddress()), 'content-type': 'text/plain' } })
    expect(text.status).toBe(415)
    expect(await stored()).toHaveLength(before)
  })

  it('has no way to read submissions back', async () => {
    const get = await browser().request(FORM)
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    expect((await browser().request(TOKEN, { json: {} })).status).toBe(405)
    const items = await browser().request('/api/cockpit/items/messages')
    expect(items.status).toBe(404)
    expect(items.json().data.code).toBe('MODEL_NOT_FOUND')
    expect((await browser().request('/api/cockpit/items/contact')).status).toBe(404)
    expect((await browser().request(`${FORM}/entries`)).status).toBe(404)
    expect((await browser().request('/api/cockpit/forms/unknown', { json: { ...MESSAGE, _token: token } })).json().data.code).toBe('FORM_NOT_FOUND')
  })
})

describe('a form with a captcha (v2; the check does not depend on the Cockpit version)', () => {
  const exchanges: RecordedExchange[] = []
  const verifications: URLSearchParams[] = []
  let mode: 'answer' | 'error' = 'answer'
  let verifier: Server
  let verifierUrl: string
  let gateway: RunningGateway
  let token: string
  const browser = () => new TestBrowser(gateway, exchanges)
  const from = (address: string) => ({ 'x-forwarded-for': address })
  const stored = () => storedMessages(gateway, 2)
  const send = (captcha?: string) => browser().request(FORM, {
    json: { ...MESSAGE, _token: token, ...(captcha === undefined ? {} : { 'cf-turnstile-response': captcha }) },
    headers: from(nextAddress()),
  })

  beforeAll(async () => {
    // A fake `siteverify` on loopback: `pass` succeeds, anything else fails; `error` mode answers 500.
    verifier = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => {
        body += chunk
      })
      req.on('end', () => {
        const params = new URLSearchParams(body)
        verifications.push(params)
        if (mode === 'error') {
          res.writeHead(500).end('oops')
          return
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ 'success': params.get('response') === 'pass', 'error-codes': [] }))
      })
    })
    await new Promise<void>(resolve => verifier.listen(0, '127.0.0.1', resolve))
    verifierUrl = `http://127.0.0.1:${(verifier.address() as AddressInfo).port}/siteverify`
    gateway = await startGateway({
      version: 2,
      env: {
        ...ENV,
        NUXT_COCKPIT_GATEWAY_FORMS_CAPTCHA_VERIFY_URL: verifierUrl,
        NUXT_COCKPIT_GATEWAY_FORMS_CAPTCHA_SECRET: 'captcha-secret-0123456789',
      },
    })
    token = (await browser().request(TOKEN, { headers: from('192.0.2.2') })).json().token
    await sleep(1100)
  })
  afterAll(async () => {
    expect(findLeaks([...gateway.secrets, 'captcha-secret-0123456789'], exchanges, gateway.logs)).toEqual([])
    await gateway.stop()
    verifier.closeAllConnections()
    await new Promise(resolve => verifier.close(resolve))
  })

  it('stores a submission whose captcha the verifier accepts, having sent it secret, response and client address', async () => {
    const before = (await stored()).length
    verifications.length = 0
    const response = await browser().request(FORM, { json: { ...MESSAGE, '_token': token, 'cf-turnstile-response': 'pass' }, headers: from('203.0.113.77') })
    expect(response.status).toBe(201)
    expect(verifications).toHaveLength(1)
    expect(Object.fromEntries(verifications[0]!)).toEqual({ secret: 'captcha-secret-0123456789', response: 'pass', remoteip: '203.0.113.77' })
    const after = await stored()
    expect(after).toHaveLength(before + 1)
    // The widget's response is the gateway's, not a field of the message.
    expect(JSON.stringify(after)).not.toContain('cf-turnstile-response')
  })

  it('refuses a captcha the verifier refuses, or none, with CAPTCHA_FAILED (403)', async () => {
    const before = (await stored()).length
    verifications.length = 0
    const failed = await send('fail')
    expect(failed.status).toBe(403)
    expect(failed.json().data.code).toBe('CAPTCHA_FAILED')
    const missing = await send()
    expect(missing.json().data.code).toBe('CAPTCHA_FAILED')
    // No response: the verifier is not even asked.
    expect(verifications).toHaveLength(1)
    expect(await stored()).toHaveLength(before)
  })

  it('fails closed with CAPTCHA_UNAVAILABLE (503) when the verifier errs or is down', async () => {
    const before = (await stored()).length
    mode = 'error'
    const erring = await send('pass')
    expect(erring.status).toBe(503)
    expect(erring.json().data.code).toBe('CAPTCHA_UNAVAILABLE')
    verifier.closeAllConnections()
    await new Promise(resolve => verifier.close(resolve))
    const down = await send('pass')
    expect(down.status).toBe(503)
    expect(down.json().data.code).toBe('CAPTCHA_UNAVAILABLE')
    expect(await stored()).toHaveLength(before)
    expect(gateway.logs.join('')).toContain('captcha verifier unavailable')
    // Neither the verifier's address nor the gateway's secrets (checked after all) are logged.
    expect(gateway.logs.join('')).not.toContain(verifierUrl.slice(7))
  })
})

describe('the per-form limit and a missing submit key (v2)', () => {
  const exchanges: RecordedExchange[] = []
  let limited: RunningGateway
  let keyless: RunningGateway
  const from = (address: string) => ({ 'x-forwarded-for': address })

  beforeAll(async () => {
    limited = await startGateway({ version: 2, env: { ...ENV, NUXT_COCKPIT_GATEWAY_RATE_LIMIT_SUBMIT_FORM_LIMIT: '2' } })
    keyless = await startGateway({ version: 2, emulator: limited.emulator, env: { ...ENV, NUXT_COCKPIT_SUBMIT_KEY: '' } })
  })
  afterAll(async () => {
    expect(findLeaks([...limited.secrets, ...keyless.secrets], exchanges, [...limited.logs, ...keyless.logs])).toEqual([])
    await keyless.stop()
    await limited.stop()
  })

  it('caps what all clients together may send to one form', async () => {
    const b = new TestBrowser(limited, exchanges)
    const token = (await b.request(TOKEN, { headers: from(nextAddress()) })).json().token
    await sleep(1100)
    expect((await b.request(FORM, { json: { ...MESSAGE, _token: token }, headers: from(nextAddress()) })).status).toBe(201)
    expect((await b.request(FORM, { json: { ...MESSAGE, _token: 'forged' }, headers: from(nextAddress()) })).status).toBe(403)
    const third = await b.request(FORM, { json: { ...MESSAGE, _token: token }, headers: from(nextAddress()) })
    expect(third.status).toBe(429)
    expect(third.json().data.code).toBe('RATE_LIMITED')
    expect(await storedMessages(limited, 2)).toHaveLength(1)
  })

  it('refuses every submission with MISSING_KEY when no submit key is set, and never uses the write key', async () => {
    limited.emulator.clearRequests()
    const b = new TestBrowser(keyless, exchanges)
    const token = (await b.request(TOKEN, { headers: from(nextAddress()) })).json().token
    await sleep(1100)
    const refused = await b.request(FORM, { json: { ...MESSAGE, _token: token }, headers: from(nextAddress()) })
    expect(refused.status).toBe(500)
    expect(refused.json().data.code).toBe('MISSING_KEY')
    const form = await b.request(FORM, { form: { ...MESSAGE, _token: token, _back: '/contact' }, headers: from(nextAddress()) })
    expect(form.status).toBe(500)
    expect(limited.emulator.requests.filter(r => r.method === 'POST')).toHaveLength(0)
    expect(keyless.logs.join('')).toContain('NUXT_COCKPIT_SUBMIT_KEY is not set')
  })
})

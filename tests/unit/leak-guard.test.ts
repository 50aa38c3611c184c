import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { findPrivateLookingPublicKeys, findPublicConfigLeaks } from '../../layers/cockpit-gateway/modules/leak/public-config'
import { findSecretLeaks, findSecretsInContents } from '../../layers/cockpit-gateway/modules/leak/scan'
import { collectGatewaySecrets, secretForms } from '../../layers/cockpit-gateway/modules/leak/secrets'
import type { GatewaySecret } from '../../layers/cockpit-gateway/modules/leak/secrets'

// The pure half of the build-time leak guard: which values are secrets, and where they turn up.

const READ_KEY = 'API-leaktest0000000000000000000000000000000'
// Characters that JSON, devalue, URLs and HTML each write differently.
const ODD_SECRET = 'pa$$/word "quoted" <tag> & more'
const SECRETS: GatewaySecret[] = [
  { setting: 'NUXT_COCKPIT_READ_KEY', value: READ_KEY },
  { setting: 'NUXT_SESSION_PASSWORD', value: ODD_SECRET },
]

describe('collectGatewaySecrets', () => {
  it('reads every secret setting from the env and from the private runtime config', () => {
    const { secrets } = collectGatewaySecrets({
      cockpit: { readKey: 'config-read-key-1', writeKey: '', roleKeys: { editor: 'config-editor-key' } },
      cockpitGateway: { webhookSecret: 'config-webhook-secret', forms: { captcha: { secret: 'config-captcha-secret' } } },
      session: { password: 'config-session-password-0123456789' },
      oauth: { oidc: { clientSecret: 'config-oidc-secret' } },
      public: { readKey: 'not-a-source-of-secrets' },
    }, {
      NUXT_COCKPIT_READ_KEY: 'env-read-key-1',
      NUXT_COCKPIT_WRITE_KEY: 'env-write-key-1',
      NUXT_COCKPIT_AUTH_KEY: 'env-auth-key-1',
      NUXT_COCKPIT_SUBMIT_KEY: 'env-submit-key-1',
      NUXT_COCKPIT_GATEWAY_FORMS_CAPTCHA_SECRET: 'env-captcha-secret',
      NUXT_COCKPIT_ROLE_KEYS: '{"admin":"env-admin-key","editor":"env-editor-key"}',
      NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET: 'env-webhook-secret',
      NUXT_SESSION_PASSWORD: 'env-session-password-0123456789',
      NUXT_OAUTH_OIDC_CLIENT_SECRET: 'env-oidc-secret',
    })
    expect(secrets).toEqual([
      { setting: 'NUXT_COCKPIT_READ_KEY', value: 'env-read-key-1' },
      { setting: 'NUXT_COCKPIT_READ_KEY', value: 'config-read-key-1' },
      { setting: 'NUXT_COCKPIT_WRITE_KEY', value: 'env-write-key-1' },
      { setting: 'NUXT_COCKPIT_AUTH_KEY', value: 'env-auth-key-1' },
      { setting: 'NUXT_COCKPIT_SUBMIT_KEY', value: 'env-submit-key-1' },
      { setting: 'NUXT_COCKPIT_GATEWAY_FORMS_CAPTCHA_SECRET', value: 'env-captcha-secret' },
      { setting: 'NUXT_COCKPIT_GATEWAY_FORMS_CAPTCHA_SECRET', value: 'config-captcha-secret' },
      { setting: 'NUXT_COCKPIT_ROLE_KEYS.admin', value: 'env-admin-key' },
      { setting: 'NUXT_COCKPIT_ROLE_KEYS.editor', value: 'env-editor-key' },
      { setting: 'NUXT_COCKPIT_ROLE_KEYS.editor', value: 'config-editor-key' },
      { setting: 'NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET', value: 'env-webhook-secret' },
      { setting: 'NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET', value: 'config-webhook-secret' },
      { setting: 'NUXT_SESSION_PASSWORD', value: 'env-session-password-0123456789' },
      { setting: 'NUXT_SESSION_PASSWORD', value: 'config-session-password-0123456789' },
      { setting: 'NUXT_OAUTH_OIDC_CLIENT_SECRET', value: 'env-oidc-secret' },
      { setting: 'NUXT_OAUTH_OIDC_CLIENT_SECRET', value: 'config-oidc-secret' },
    ])
  })

  it('ignores empty values, lists short ones by name only, and keeps one entry per value', () => {
    const { secrets, skipped } = collectGatewaySecrets(
      { cockpit: { readKey: 'same-value-twice', writeKey: 'same-value-twice', authKey: '' } },
      { NUXT_COCKPIT_READ_KEY: 'same-value-twice', NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET: 'short', NUXT_SESSION_PASSWORD: '' },
    )
    expect(secrets).toEqual([{ setting: 'NUXT_COCKPIT_READ_KEY', value: 'same-value-twice' }])
    expect(skipped).toEqual(['NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET'])
  })

  it('treats malformed role-key JSON as one secret rather than dropping it', () => {
    const { secrets } = collectGatewaySecrets({}, { NUXT_COCKPIT_ROLE_KEYS: '{editor: not-json-but-secret}' })
    expect(secrets).toEqual([{ setting: 'NUXT_COCKPIT_ROLE_KEYS', value: '{editor: not-json-but-secret}' }])
  })

  it('reads role keys that Nitro already parsed into an object at run time', () => {
    const { secrets } = collectGatewaySecrets({ cockpit: { roleKeys: { editor: 'runtime-editor-key', broken: 42 } } })
    expect(secrets).toEqual([{ setting: 'NUXT_COCKPIT_ROLE_KEYS.editor', value: 'runtime-editor-key' }])
  })
})

describe('secretForms', () => {
  it('covers the raw, JSON, devalue, URL and HTML spellings', () => {
    const forms = secretForms(ODD_SECRET)
    expect(forms).toContain(ODD_SECRET)
    expect(forms).toContain(JSON.stringify(ODD_SECRET).slice(1, -1))
    expect(forms).toContain('pa$$\\u002Fword \\"quoted\\" \\u003Ctag\\u003E & more')
    expect(forms).toContain(encodeURIComponent(ODD_SECRET))
    expect(forms).toContain('pa%24%24%2Fword+%22quoted%22+%3Ctag%3E+%26+more')
    expect(forms).toContain('pa$$/word &quot;quoted&quot; &lt;tag&gt; &amp; more')
  })

  it('has one form for a plain key', () => {
    expect(secretForms(READ_KEY)).toEqual([READ_KEY])
  })
})

describe('findSecretsInContents', () => {
  it('finds a secret in any of its forms, in text or bytes', () => {
    expect(findSecretsInContents(`x=${encodeURIComponent(ODD_SECRET)}`, SECRETS)).toEqual(['NUXT_SESSION_PASSWORD'])
    expect(findSecretsInContents(Buffer.concat([Buffer.from([0, 255, 1]), Buffer.from(READ_KEY)]), SECRETS)).toEqual(['NUXT_COCKPIT_READ_KEY'])
    expect(findSecretsInContents(READ_KEY.slice(0, -1), SECRETS)).toEqual([])
  })
})

describe('findSecretLeaks', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cg-leak-scan-'))
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('names every file holding a secret and the setting, never the value', async () => {
    mkdirSync(join(dir, 'posts/hello'), { recursive: true })
    mkdirSync(join(dir, '_nuxt'))
    writeFileSync(join(dir, 'index.html'), `<html><body><p>${READ_KEY}</p></body></html>`)
    writeFileSync(join(dir, 'posts/hello/_payload.json'), JSON.stringify([{ password: ODD_SECRET }]))
    writeFileSync(join(dir, 'posts/hello/index.html'), `<a href="/x?k=${encodeURIComponent(ODD_SECRET)}" title="${READ_KEY}">`)
    writeFileSync(join(dir, '_nuxt/entry.js'), 'export const ok = 1')
    writeFileSync(join(dir, '_nuxt/entry.css'), 'body{color:red}')
    writeFileSync(join(dir, 'favicon.ico'), Buffer.from([0, 1, 2, 3, 255]))

    const leaks = await findSecretLeaks(dir, SECRETS)
    expect(leaks).toEqual([
      { file: 'index.html', setting: 'NUXT_COCKPIT_READ_KEY' },
      { file: 'posts/hello/_payload.json', setting: 'NUXT_SESSION_PASSWORD' },
      { file: 'posts/hello/index.html', setting: 'NUXT_COCKPIT_READ_KEY' },
      { file: 'posts/hello/index.html', setting: 'NUXT_SESSION_PASSWORD' },
    ])
    expect(JSON.stringify(leaks)).not.toContain(READ_KEY)
  })

  it('reads symlinked files but does not follow symlinked directories (no loops)', async () => {
    writeFileSync(join(dir, 'real.txt'), READ_KEY)
    mkdirSync(join(dir, 'sub'))
    symlinkSync(join(dir, 'real.txt'), join(dir, 'sub/link.txt'))
    symlinkSync(dir, join(dir, 'sub/loop'))
    expect(await findSecretLeaks(dir, SECRETS)).toEqual([
      { file: 'real.txt', setting: 'NUXT_COCKPIT_READ_KEY' },
      { file: 'sub/link.txt', setting: 'NUXT_COCKPIT_READ_KEY' },
    ])
  })

  it('finds nothing in a clean, an empty or a missing directory', async () => {
    writeFileSync(join(dir, 'index.html'), '<p>nothing to see</p>')
    expect(await findSecretLeaks(dir, SECRETS)).toEqual([])
    expect(await findSecretLeaks(dir, [])).toEqual([])
    expect(await findSecretLeaks(join(dir, 'missing'), SECRETS)).toEqual([])
  })
})

describe('findPublicConfigLeaks', () => {
  it('names the path of every public entry holding a secret, deep, in keys and values', () => {
    const leaks = findPublicConfigLeaks({
      siteBanner: 'hello',
      nested: { list: ['fine', `https://cms.example/?token=${READ_KEY}`] },
      [ODD_SECRET]: 'odd key',
      auth: { loadStrategy: 'server-first' },
    }, SECRETS)
    expect(leaks).toEqual([
      { path: 'runtimeConfig.public.nested.list[1]', setting: 'NUXT_COCKPIT_READ_KEY' },
      { path: `runtimeConfig.public.${ODD_SECRET}`, setting: 'NUXT_SESSION_PASSWORD' },
    ])
  })

  it('finds nothing in a clean config', () => {
    expect(findPublicConfigLeaks({ auth: { loadStrategy: 'server-first' }, n: 1, b: true, z: null }, SECRETS)).toEqual([])
  })
})

describe('findPrivateLookingPublicKeys', () => {
  it('flags non-empty entries named like a private gateway setting', () => {
    expect(findPrivateLookingPublicKeys({
      cockpit: { url: 'https://cms.example', readKey: '' },
      cockpitKey: 'x',
      api_key: 'y',
      session: { sessionPassword: 'z' },
      algolia: { apiKey: 'search-only' },
      auth: { loadStrategy: 'server-first' },
      emptyWriteKey: { writeKey: '   ' },
    })).toEqual([
      'runtimeConfig.public.cockpit.url',
      'runtimeConfig.public.cockpitKey',
      'runtimeConfig.public.api_key',
      'runtimeConfig.public.session.sessionPassword',
      'runtimeConfig.public.algolia.apiKey',
    ])
  })

  it('lets an app allow entries that are public on purpose', () => {
    const config = { algolia: { apiKey: 'search-only', appId: 'A' }, cockpit: { url: 'https://cms.example' } }
    expect(findPrivateLookingPublicKeys(config, ['runtimeConfig.public.algolia.apiKey'])).toEqual(['runtimeConfig.public.cockpit.url'])
    expect(findPrivateLookingPublicKeys(config, ['runtimeConfig.public.algolia', 'runtimeConfig.public.cockpit'])).toEqual([])
  })
})

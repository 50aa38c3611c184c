import { getCookie, setCookie } from 'h3'
import type { H3Event } from 'h3'
import { useRuntimeConfig } from 'nitropack/runtime'
import { timingSafeEqualStrings, toBase64Url } from '../session/session-mac'

// OWASP's "device cookies": a client that once logged in to an account holds a signed cookie naming that
// account, and its later attempts on the account are judged by a bucket of their own. An attacker's failures
// on the account's shared bucket then slow down the attacker (and clients that never logged in), never the owner.

/** How long a device stays known, seconds (renewed at each successful login). */
export const DEVICE_COOKIE_MAX_AGE = 30 * 24 * 60 * 60
/** Accounts remembered per browser (the most recent ones). */
const MAX_ENTRIES = 5
const NONCE = /^[\w-]{22}$/
const SIGNATURE = /^[\w-]{22}$/

/** A device entry of the cookie that names the account being logged in to. */
export interface LoginDevice {
  /** Random id of this browser for this account. */
  id: string
}

function cookieName(event: H3Event): string {
  return isSecure(event) ? '__Host-cockpit-device' : 'cockpit-device'
}

function isSecure(event: H3Event): boolean {
  return (useRuntimeConfig(event).session as { cookie?: { secure?: boolean } }).cookie?.secure !== false
}

const keys = new Map<string, Promise<CryptoKey>>()

function signingKey(event: H3Event): Promise<CryptoKey> {
  const password = String(useRuntimeConfig(event).session?.password ?? '')
  let key = keys.get(password)
  if (!key) {
    // Derived from the session password with a label of its own: never the same key as the session seal.
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(password), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
      .then(raw => crypto.subtle.sign('HMAC', raw, new TextEncoder().encode('cockpit-gateway device cookie v1')))
      .then(derived => crypto.subtle.importKey('raw', derived, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']))
    keys.set(password, key)
  }
  return key
}

async function sign(event: H3Event, id: string, account: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await signingKey(event), new TextEncoder().encode(`${id}\n${account}`))
  // 128 bits are plenty for a tag nobody sees verified.
  return toBase64Url(new Uint8Array(mac).slice(0, 16))
}

function readEntries(event: H3Event): { id: string, signature: string }[] {
  const raw = getCookie(event, cookieName(event)) ?? ''
  return raw.split('~').map((entry) => {
    const [id = '', signature = ''] = entry.split('.')
    return { id, signature }
  }).filter(entry => NONCE.test(entry.id) && SIGNATURE.test(entry.signature)).slice(0, MAX_ENTRIES)
}

/**
 * The device entry of the request's device cookie that was issued for `account`, or `null`.
 * @param event the login request
 * @param account the canonical account key
 */
export async function getLoginDevice(event: H3Event, account: string): Promise<LoginDevice | null> {
  for (const entry of readEntries(event)) {
    if (timingSafeEqualStrings(entry.signature, await sign(event, entry.id, account))) return { id: entry.id }
  }
  return null
}

/**
 * After a successful login: puts `account`'s entry first in the device cookie (a new one when the browser had
 * none for it), keeping the most recent accounts, and renews the cookie (HttpOnly, SameSite like the session).
 * @param event the login request
 * @param account the canonical account key
 * @param device the entry the request already held for the account, if any
 */
export async function rememberLoginDevice(event: H3Event, account: string, device: LoginDevice | null): Promise<void> {
  const id = device?.id ?? toBase64Url(crypto.getRandomValues(new Uint8Array(16)))
  const entry = `${id}.${await sign(event, id, account)}`
  const others = readEntries(event).filter(other => other.id !== id).map(other => `${other.id}.${other.signature}`)
  const session = useRuntimeConfig(event).session as { cookie?: { sameSite?: 'lax' | 'strict' | 'none' } }
  setCookie(event, cookieName(event), [entry, ...others].slice(0, MAX_ENTRIES).join('~'), {
    httpOnly: true,
    secure: isSecure(event),
    sameSite: session.cookie?.sameSite ?? 'lax',
    path: '/',
    maxAge: DEVICE_COOKIE_MAX_AGE,
  })
}

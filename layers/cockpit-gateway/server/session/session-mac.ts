import type { H3Event } from 'h3'
import { useGatewayRuntimeConfig } from '../config/gateway-config'

// Tokens the gateway signs with the session password (the HTML form token, the public form submission token):
// one HMAC key per password, imported once per process, and each caller's message starts with a context label
// of its own, so a MAC made for one purpose never verifies for another (nor as a session seal).
const encoder = new TextEncoder()
let hmac: { password: string, key: Promise<CryptoKey> } | undefined

/**
 * HMAC-SHA-256 of `message` under the session password, base64url.
 * @param event the request (the password is run-time config)
 * @param message the signed text, starting with the caller's context label
 */
export async function signWithSessionPassword(event: H3Event, message: string): Promise<string> {
  const password = String(useGatewayRuntimeConfig(event).session.password ?? '')
  if (hmac?.password !== password) hmac = { password, key: crypto.subtle.importKey('raw', encoder.encode(password), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']) }
  return toBase64Url(await crypto.subtle.sign('HMAC', await hmac.key, encoder.encode(message)))
}

/**
 * Base64url without padding.
 * @param bytes the bytes
 */
export function toBase64Url(bytes: ArrayBuffer | Uint8Array): string {
  let binary = ''
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * Compares two strings without an early exit, so the time taken says nothing about how much of a guess was right.
 * @param a one string
 * @param b the other
 */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  const left = encoder.encode(a)
  const right = encoder.encode(b)
  let diff = left.length ^ right.length
  for (let i = 0; i < Math.max(left.length, right.length); i++) diff |= (left[i] ?? 0) ^ (right[i] ?? 0)
  return diff === 0
}

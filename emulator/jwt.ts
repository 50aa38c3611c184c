import { createHmac, randomBytes } from 'node:crypto'

const base64url = (text: string | Buffer) => Buffer.from(text).toString('base64url')

/**
 * Signs a JWT (HS256) the way Cockpit's csrf helper does, so tokens look like the real ones
 * (`eyJ…`). The emulator only ever compares them with the copy it keeps in the session.
 */
export function createJwt(payload: Record<string, unknown>, secret: string): string {
  const head = base64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }))
  const body = base64url(JSON.stringify(payload))
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${signature}`
}

/** A random secret for one emulator instance. */
export function createJwtSecret(): string {
  return randomBytes(32).toString('hex')
}

import { randomBytes } from 'node:crypto'

/** The current time as Cockpit stores it: whole Unix seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/**
 * A new 24-hex id shaped like MongoLite's ObjectId: 8 hex of Unix seconds, then 16 random hex.
 * @example createObjectId() // '6b0bc590686c82ac4ecc9e1e'
 */
export function createObjectId(): string {
  return nowSeconds().toString(16).padStart(8, '0').slice(-8) + randomBytes(8).toString('hex')
}

/** A fresh v1 account key, `account-` plus 32 hex (the shape of the seeded ones). */
export function createAccountKey(): string {
  return `account-${randomBytes(16).toString('hex')}`
}

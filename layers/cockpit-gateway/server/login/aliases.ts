import { useGatewayStorage } from '../storage/gateway-storage'

// Cockpit v2 logs an account in by its username or by its email. Before the first success the gateway
// cannot know that both name one account (it never lists users), so each has its own limit; after it,
// Cockpit's answer carries both and the email is recorded here as an alias of the username.

const PREFIX = 'login-alias'

function aliasKey(email: string): string {
  // Percent-encoded so that unstorage keeps the key as written (it would fold `/` and `:`).
  return `${PREFIX}:${encodeURIComponent(canonicalEmail(email))}`
}

function canonicalEmail(email: string): string {
  return email.normalize('NFKC').toLowerCase()
}

/**
 * The canonical username an email was last seen to belong to, or `null` when none was recorded.
 * @param email the spelling a client sent
 * @throws what the state store throws (the caller fails closed)
 */
export async function getLoginAlias(email: string): Promise<string | null> {
  const value = await useGatewayStorage('state').getItem<unknown>(aliasKey(email))
  return typeof value === 'string' && value ? value : null
}

/**
 * Records, after a successful login, that `email` names the account `username` (both as Cockpit answered).
 * A failure to write is not the user's problem: the login stands, and the email keeps its own limit.
 * @param email the account's email
 * @param username the account's username
 */
export async function rememberLoginAlias(email: string, username: string): Promise<void> {
  const account = username.normalize('NFKC').toLowerCase()
  try {
    const storage = useGatewayStorage('state')
    if (await storage.getItem(aliasKey(email)) === account) return
    await storage.setItem(aliasKey(email), account)
  }
  catch {
    console.warn('[cockpit-gateway] login alias could not be recorded (state store unavailable)')
  }
}

// `npm run hash-password [-- --username editor --role editor --name "Editor"]`: hashes a password for the
// `local` identity provider. The password is read from stdin (typed without echo on a terminal, or piped),
// never from the command line, so it stays out of shell history and the process list.
// stdout: line 1 the hash, line 2 a ready-to-paste NUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS assignment.
import { parseArgs } from 'node:util'
import { Hash } from '@adonisjs/hash'
import { Scrypt } from '@adonisjs/hash/drivers/scrypt'

/** The password lengths accepted (the login endpoint refuses anything over 256 characters). */
const MIN_LENGTH = 8
const MAX_LENGTH = 256

const USAGE = 'usage: npm run hash-password -- [--username <name>] [--role <role>] [--name <display name>]   (password on stdin)'

function fail(message: string): never {
  process.stderr.write(`hash-password: ${message}\n`)
  process.exit(1)
}

/** Reads one line from a terminal in raw mode, echoing nothing. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(prompt)
  return new Promise((resolve) => {
    let value = ''
    const finish = () => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      process.stderr.write('\n')
    }
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          finish()
          return resolve(value)
        }
        if (char === '\u0003') {
          finish()
          process.exit(130)
        }
        if (char === '\u0004' && !value) {
          finish()
          fail('no password given')
        }
        if (char === '\u007F' || char === '\b') value = [...value].slice(0, -1).join('')
        else if (char >= ' ') value += char
      }
    }
    stdin.setEncoding('utf8')
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}

/** Reads all of piped stdin; one trailing line break is not part of the password. */
async function readPiped(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  if (/[\r\n]/.test(text)) fail('the password must be a single line')
  return text
}

/** Quotes a value for a POSIX shell or a .env file: single quotes, so `$` in the hash is never expanded. */
function shellQuote(value: string): string {
  return `'${value.replaceAll('\'', '\'\\\'\'')}'`
}

let args: { username?: string, role?: string, name?: string, help?: boolean }
try {
  ({ values: args } = parseArgs({
    options: { username: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  }))
}
catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`)
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const username = (args.username ?? 'editor').trim()
const role = args.role ?? 'editor'
const name = args.name ?? username
if (!username || username.length > 256) fail('--username must be 1 to 256 characters')
if (!role || role.length > 64) fail('--role must be 1 to 64 characters')
if (name.length > 256) fail('--name must be at most 256 characters')

let password: string
if (process.stdin.isTTY) {
  password = await promptHidden('Password: ')
  if (password.length >= MIN_LENGTH && password.length <= MAX_LENGTH && await promptHidden('Repeat password: ') !== password) fail('the passwords do not match')
}
else {
  password = await readPiped()
}
// Counted as the login endpoint counts (UTF-16 code units), so every hash made here can be logged in with.
if (password.length < MIN_LENGTH) fail(`the password must be at least ${MIN_LENGTH} characters`)
if (password.length > MAX_LENGTH) fail(`the password must be at most ${MAX_LENGTH} characters`)

// Exactly what nuxt-auth-utils' hashPassword/verifyPassword use: @adonisjs/hash, Scrypt with its defaults
// (the hash carries its own parameters, so verifyPassword accepts it whatever the app's scrypt options).
const hash = new Hash(new Scrypt({}))
const passwordHash = await hash.make(password)
if (!await hash.verify(passwordHash, password)) fail('internal error: the hash does not verify')

const users = JSON.stringify([{ username, name, role, passwordHash }])
process.stdout.write(`${passwordHash}\nNUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS=${shellQuote(users)}\n`)
process.stderr.write('Several users: put their objects in one JSON array. Set NUXT_COCKPIT_GATEWAY_AUTH_PROVIDER=local to use them.\n')

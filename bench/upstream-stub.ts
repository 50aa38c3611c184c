// The benchmark's upstream: answers like Cockpit v2 (contract section 1) for the model `posts`, fast and
// constant, so that every server in the bench is measured in front of the same upstream. Runs as its own
// process (`node --import tsx bench/upstream-stub.ts`) on a random loopback port and prints
// `{"port":N}` on its first stdout line. Keys come from env: BENCH_UPSTREAM_READ_KEY may read,
// BENCH_UPSTREAM_WRITE_KEY may read and create. Calls are counted per route; `GET /__bench/calls` gives
// the counts and `POST /__bench/reset` zeroes them (neither is counted).
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'

const READ_KEY = process.env.BENCH_UPSTREAM_READ_KEY ?? ''
const WRITE_KEY = process.env.BENCH_UPSTREAM_WRITE_KEY ?? ''
if (!READ_KEY || !WRITE_KEY) {
  process.stderr.write('upstream-stub: BENCH_UPSTREAM_READ_KEY and BENCH_UPSTREAM_WRITE_KEY are required\n')
  process.exit(2)
}

/** Counted routes; `rejected` is any call refused for its key. */
export type StubRoute = 'list' | 'item' | 'create' | 'other' | 'rejected'

const calls: Record<StubRoute, number> = { list: 0, item: 0, create: 0, other: 0, rejected: 0 }

const EDITOR_ID = '6b0bc3c7686c82ffb095aa80'
const CREATED = 1795933127

// Eight published posts (the demo's publicFilter is {published:true}), about 2 KB serialised in all.
const POSTS = [
  ['Hello Cockpit', 'Welcome to the blog, served through the gateway.'],
  ['Second post', 'Second post body'],
  ['Release notes', 'What changed in this release, in short.'],
  ['Caching reads', 'Public reads are shared and cached on the server.'],
  ['Sessions', 'Sealed cookies, idle and absolute expiry.'],
  ['Rate limits', 'Reads per client, writes per user, logins per IP.'],
  ['Webhooks', 'Cockpit tells the gateway when content changes.'],
  ['Roadmap', 'What comes next for the site.'],
].map(([title, body], index) => ({
  title,
  body: `<p>${body}</p>`,
  published: true,
  _state: 1,
  _modified: CREATED + index * 60,
  _mby: EDITOR_ID,
  _created: CREATED + index * 60,
  _cby: EDITOR_ID,
  _id: `6b0bc3c7686c82ffb095aa${(0x90 + index).toString(16)}`,
}))

// Pre-serialised once: the stub answers every read with the same bytes.
const LIST_BODY = Buffer.from(JSON.stringify(POSTS))
const ENVELOPE_BODY = Buffer.from(JSON.stringify({ data: POSTS, meta: { total: POSTS.length } }))
const ITEM_BODIES = new Map(POSTS.map(post => [post._id, Buffer.from(JSON.stringify(post))]))
const AUTH_FAILED = Buffer.from('{"error":"Authentication failed"}')
const PERMISSION_DENIED = Buffer.from('{"error":"Permission denied"}')
const DATA_MISSING = Buffer.from('{"error":"Item data is missing"}')
const EMPTY = Buffer.alloc(0)
const JSON_TYPE = 'application/json'
// Cockpit's empty 404 (missing item, unknown route) is typed as HTML.
const HTML_TYPE = 'text/html;charset=UTF-8'

/** Fields of the `posts` model: only these are stored on create (Cockpit drops the rest). */
const POST_FIELDS = ['title', 'body', 'published'] as const

let created = 0

/** A new 24-hex id, unique for this process. */
function newId(): string {
  created++
  return `6b0c${created.toString(16).padStart(20, '0')}`
}

function send(res: ServerResponse, status: number, type: string, body: Buffer): void {
  res.writeHead(status, { 'content-type': type, 'content-length': body.length })
  res.end(body)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** `{"data":{…}}` parsed, or null when missing, not an object, or not JSON (Cockpit: 412). */
function parseWriteData(text: string): Record<string, unknown> | null {
  try {
    const body: unknown = JSON.parse(text)
    const data = (body as { data?: unknown } | null)?.data
    return data && typeof data === 'object' && !Array.isArray(data) ? data as Record<string, unknown> : null
  }
  catch {
    return null
  }
}

async function create(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const data = parseWriteData(await readBody(req))
  if (!data) return send(res, 412, JSON_TYPE, DATA_MISSING)
  const now = Math.floor(Date.now() / 1000)
  const item: Record<string, unknown> = {}
  for (const field of POST_FIELDS) item[field] = data[field] ?? null
  // An API key (not a user key) writes with `_cby`/`_mby` null; `_state` defaults to 1 through the API.
  Object.assign(item, { _state: data._state ?? 1, _modified: now, _mby: null, _created: now, _cby: null, _id: newId() })
  send(res, 200, JSON_TYPE, Buffer.from(JSON.stringify(item)))
}

function control(req: IncomingMessage, res: ServerResponse, path: string): void {
  if (req.method === 'GET' && path === '/__bench/calls') return send(res, 200, JSON_TYPE, Buffer.from(JSON.stringify(calls)))
  if (req.method === 'POST' && path === '/__bench/reset') {
    for (const route of Object.keys(calls) as StubRoute[]) calls[route] = 0
    return send(res, 204, JSON_TYPE, EMPTY)
  }
  send(res, 404, HTML_TYPE, EMPTY)
}

const server = createServer((req, res) => {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  if (path.startsWith('/__bench/')) return control(req, res, path)
  const key = req.headers['api-key']
  const writer = key === WRITE_KEY
  if (!writer && key !== READ_KEY) {
    calls.rejected++
    return send(res, 412, JSON_TYPE, AUTH_FAILED)
  }
  if (req.method === 'GET' && path === '/api/content/items/posts') {
    calls.list++
    // v2 answers the {data, meta} envelope only when both limit and skip are sent.
    const query = q === -1 ? '' : url.slice(q)
    const envelope = /[?&]limit=/.test(query) && /[?&]skip=/.test(query)
    return send(res, 200, JSON_TYPE, envelope ? ENVELOPE_BODY : LIST_BODY)
  }
  if (req.method === 'GET' && path.startsWith('/api/content/item/posts/')) {
    calls.item++
    const body = ITEM_BODIES.get(path.slice('/api/content/item/posts/'.length))
    return body ? send(res, 200, JSON_TYPE, body) : send(res, 404, HTML_TYPE, EMPTY)
  }
  if (req.method === 'POST' && path === '/api/content/item/posts') {
    calls.create++
    if (!writer) return send(res, 403, JSON_TYPE, PERMISSION_DENIED)
    create(req, res).catch(() => send(res, 500, JSON_TYPE, EMPTY))
    return
  }
  calls.other++
  send(res, 404, HTML_TYPE, EMPTY)
})
// Longer than any client's keep-alive, so a pooled upstream connection is never closed under a request.
server.keepAliveTimeout = 65_000
server.headersTimeout = 66_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections())

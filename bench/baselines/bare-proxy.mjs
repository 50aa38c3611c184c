// Baseline of the gateway benchmark: the least a proxy can do. node:http + global fetch, adding the key:
// `GET /api/posts` → the upstream's post list, `POST /api/posts` → a create (the body passed through as
// it came). Status and body are passed back. Env: PORT, BENCH_UPSTREAM_URL, BENCH_UPSTREAM_READ_KEY,
// BENCH_UPSTREAM_WRITE_KEY.
import { createServer } from 'node:http'

const upstream = process.env.BENCH_UPSTREAM_URL
const readKey = process.env.BENCH_UPSTREAM_READ_KEY
const writeKey = process.env.BENCH_UPSTREAM_WRITE_KEY
const port = Number(process.env.PORT)
if (!upstream || !readKey || !writeKey || !port) {
  process.stderr.write('bare-proxy: PORT, BENCH_UPSTREAM_URL and the upstream keys are required\n')
  process.exit(2)
}

async function readBody(req) {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function forward(req, res) {
  const init = req.method === 'POST'
    ? { method: 'POST', headers: { 'api-key': writeKey, 'content-type': 'application/json' }, body: await readBody(req) }
    : { headers: { 'api-key': readKey } }
  const path = req.method === 'POST' ? '/api/content/item/posts' : '/api/content/items/posts'
  const response = await fetch(`${upstream}${path}`, init)
  const body = Buffer.from(await response.arrayBuffer())
  res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/json', 'content-length': body.length })
  res.end(body)
}

const server = createServer((req, res) => {
  const path = req.url.split('?', 1)[0]
  if (path !== '/api/posts' || (req.method !== 'GET' && req.method !== 'POST')) {
    res.writeHead(404, { 'content-type': 'application/json' })
    return res.end('{"error":"not found"}')
  }
  forward(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' })
    res.end('{"error":"upstream failed"}')
  })
})
server.listen(port, '127.0.0.1')
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections())

// Baseline of the gateway benchmark: the least a proxy can do. node:http + global fetch, adding the key:
// `GET /api/posts` → the upstream's post list, `POST /api/posts` → a create (the body passed through as
// it came). Status and body are passed back. Env: PORT, BENCH_UPSTREAM_URL, BENCH_UPSTREAM_READ_KEY,
// BENCH_UPSTREAM_WRITE_KEY; BARE_TRANSPORT=http sends the upstream call through node:http with a
// keep-alive agent instead of fetch (what the gateway does on Node.js), for comparison.
import { Agent, createServer, request } from 'node:http'

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

const agent = new Agent({ keepAlive: true })

function viaHttp(url, init) {
  return new Promise((resolve, reject) => {
    const headers = init.body ? { ...init.headers, 'content-length': init.body.length } : init.headers
    const call = request(url, { method: init.method ?? 'GET', headers, agent }, (response) => {
      const chunks = []
      response.on('data', chunk => chunks.push(chunk))
      response.on('error', reject)
      response.on('end', () => resolve({ status: response.statusCode, contentType: response.headers['content-type'], body: Buffer.concat(chunks) }))
    })
    call.on('error', reject)
    call.end(init.body)
  })
}

async function viaFetch(url, init) {
  const response = await fetch(url, init)
  return { status: response.status, contentType: response.headers.get('content-type'), body: Buffer.from(await response.arrayBuffer()) }
}

const send = process.env.BARE_TRANSPORT === 'http' ? viaHttp : viaFetch

async function forward(req, res) {
  const init = req.method === 'POST'
    ? { method: 'POST', headers: { 'api-key': writeKey, 'content-type': 'application/json' }, body: await readBody(req) }
    : { headers: { 'api-key': readKey } }
  const path = req.method === 'POST' ? '/api/content/item/posts' : '/api/content/items/posts'
  const { status, contentType, body } = await send(`${upstream}${path}`, init)
  res.writeHead(status, { 'content-type': contentType ?? 'application/json', 'content-length': body.length })
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

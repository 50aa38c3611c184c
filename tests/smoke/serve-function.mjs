// Serves a built serverless function on loopback over node:http, for the preset smoke test
// (scripts/smoke-presets.ts). Only the function's own contract is used, as its platform would call it:
//   node serve-function.mjs node-listener <entry.mjs> <port>  Vercel (Node.js runtime, launcherType Nodejs): (req, res)
//   node serve-function.mjs fetch-handler <entry.mjs> <port>  Netlify Functions v2: (Request, context) => Response
// Plain JavaScript on purpose: it runs on the Node the platform would, with no TypeScript loader.
import { createServer } from 'node:http'
import { pathToFileURL } from 'node:url'

const [kind, entry, port] = process.argv.slice(2)
if (!['node-listener', 'fetch-handler'].includes(kind) || !entry || !Number(port)) {
  console.error('usage: node serve-function.mjs node-listener|fetch-handler <entry.mjs> <port>')
  process.exit(2)
}
const { default: handler } = await import(pathToFileURL(entry).href)

/** Calls a web-style handler with the request as a platform would hand it over. */
async function callFetchHandler(req, res) {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`)
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of [value].flat()) if (v !== undefined) headers.append(name, v)
  }
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks)
  const request = new Request(url, { method: req.method, headers, body })
  const response = await handler(request, { ip: req.socket.remoteAddress, waitUntil: () => {} })
  const out = {}
  for (const [name, value] of response.headers) if (name !== 'set-cookie') out[name] = value
  const cookies = response.headers.getSetCookie()
  if (cookies.length) out['set-cookie'] = cookies
  res.writeHead(response.status, out)
  res.end(Buffer.from(await response.arrayBuffer()))
}

const server = createServer((req, res) => {
  if (kind === 'node-listener') return handler(req, res)
  callFetchHandler(req, res).catch((error) => {
    console.error('[serve-function] handler threw:', error)
    if (!res.headersSent) res.writeHead(502)
    res.end()
  })
})
server.listen(Number(port), '127.0.0.1', () => console.log(`[serve-function] ${kind} on http://127.0.0.1:${port}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))

import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, test, USERS } from './fixtures'

// Another site's page that posts valid credentials to the gateway as soon as it loads (login CSRF).
let attacker: Server
let attackerPort: number
let gatewayOrigin = ''

test.beforeAll(async ({ baseURL }) => {
  gatewayOrigin = baseURL!
  attacker = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="${gatewayOrigin}/api/auth/login">
  <input name="username" value="${USERS.editor.username}"><input name="password" value="${USERS.editor.password}">
</form>
<script>document.getElementById('f').submit()</script>`)
  })
  await new Promise<void>(resolve => attacker.listen(0, '127.0.0.1', () => resolve()))
  attackerPort = (attacker.address() as AddressInfo).port
})

test.afterAll(async () => {
  attacker.closeAllConnections()
  await new Promise(resolve => attacker.close(resolve))
})

for (const [kind, host] of [['another site', 'localhost'], ['another origin of the same site', '127.0.0.1']] as const) {
  test(`a form post from ${kind} is refused and sets no session`, async ({ page, context, control }) => {
    await control.clearRequests()
    const post = page.waitForResponse(r => r.url() === `${gatewayOrigin}/api/auth/login`)
    await page.goto(`http://${host}:${attackerPort}/`)
    const response = await post
    expect(response.request().headers().origin).toBe(`http://${host}:${attackerPort}`)
    expect(response.status()).toBe(403)
    expect((await response.json()).data.code).toBe('ORIGIN_MISMATCH')
    expect((await response.allHeaders())['set-cookie']).toBeUndefined()

    expect((await context.cookies()).map(c => c.name)).not.toContain('cockpit-session')
    expect(await (await page.request.get(`${gatewayOrigin}/api/_auth/session`)).json()).toEqual({})
    // Refused before the credentials were checked: Cockpit was never asked.
    expect(await control.requests()).toEqual([])
  })
}

import { expect, test, USERS } from './fixtures'

test.use({ javaScriptEnabled: false })

test('the login form works without JavaScript: form post, 303, logged in', async ({ page }) => {
  await page.goto('/login?redirect=/posts/new')
  await page.getByLabel('Username').fill(USERS.editor.username)
  await page.getByLabel('Password').fill(USERS.editor.password)
  const post = page.waitForResponse(r => new URL(r.url()).pathname === '/api/auth/login')
  await page.getByTestId('login-submit').click()
  const response = await post
  expect(response.request().method()).toBe('POST')
  expect(response.request().headers()['content-type']).toBe('application/x-www-form-urlencoded')
  expect(response.status()).toBe(303)
  expect(response.headers().location).toBe('/posts/new')
  await page.waitForURL(url => url.pathname === '/posts/new')

  const session = await (await page.request.get('/api/_auth/session')).json()
  expect(session.user).toMatchObject({ name: USERS.editor.name, role: 'editor' })
})

test('a failed login without JavaScript comes back to the form with the reason', async ({ page }) => {
  await page.goto('/login')
  await page.getByLabel('Username').fill(USERS.editor.username)
  await page.getByLabel('Password').fill('not-the-password')
  await page.getByTestId('login-submit').click()
  await page.waitForURL(url => url.pathname === '/login' && url.searchParams.get('error') === 'INVALID_CREDENTIALS')
  await expect(page.getByTestId('login-error')).toHaveText('Wrong username or password.')
  expect(await (await page.request.get('/api/_auth/session')).json()).toEqual({})
})

test('a rate-limited login without JavaScript says when to try again', async ({ page, control }) => {
  const strict = await control.strictURL()
  const username = `ratelimit-probe-nojs-${Date.now().toString(36)}`
  for (let attempt = 1; attempt <= 4; attempt++) {
    await page.goto(`${strict}/login`)
    await page.getByLabel('Username').fill(username)
    await page.getByLabel('Password').fill('not-the-password')
    await page.getByTestId('login-submit').click()
    await page.waitForURL(url => url.pathname === '/login' && url.searchParams.has('error'))
  }
  expect(new URL(page.url()).searchParams.get('error')).toBe('RATE_LIMITED')
  await expect(page.getByTestId('login-error')).toHaveText(/^Too many attempts\. Try again in \d+ (second|seconds|minutes)\.$/)
})

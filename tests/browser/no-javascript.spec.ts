import { expect, isCockpitWrite, test, USERS } from './fixtures'
import type { Page } from '@playwright/test'

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

test('a failed login without JavaScript comes back to the form with the reason and the username (never the password)', async ({ page }) => {
  await page.goto('/login')
  await page.getByLabel('Username').fill(USERS.editor.username)
  await page.getByLabel('Password').fill('not-the-password')
  await page.getByTestId('login-submit').click()
  await page.waitForURL(url => url.pathname === '/login' && url.searchParams.get('error') === 'INVALID_CREDENTIALS')
  await expect(page.getByTestId('login-error')).toHaveText('Wrong username or password.')
  await expect(page.getByLabel('Username')).toHaveValue(USERS.editor.username)
  await expect(page.getByLabel('Password')).toHaveValue('')
  expect(page.url()).not.toContain('not-the-password')
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

/** Logs in through the real form (no JavaScript: a form post and its 303), landing on the account page. */
async function loginWithoutJavaScript(page: Page, user: { username: string, password: string }): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('Username').fill(user.username)
  await page.getByLabel('Password').fill(user.password)
  await page.getByTestId('login-submit').click()
  await page.waitForURL(url => url.pathname === '/account')
}

test('every page offers a real login link, and /login sends a logged-in user on', async ({ page }) => {
  for (const path of ['/', '/posts/new', '/login']) {
    await page.goto(path)
    await expect(page.getByTestId('login-link')).toHaveText('Log in')
    await expect(page.getByTestId('login-link')).toHaveAttribute('href', '/login')
  }
  await loginWithoutJavaScript(page, USERS.editor)
  const response = await page.goto('/login')
  expect(new URL(page.url()).pathname).toBe('/account')
  expect(response!.status()).toBe(200)
})

test('without JavaScript: log in, see it worked, create a post, fix a mistake, edit it, log out', async ({ page, control }, testInfo) => {
  const title = `No-JS post ${testInfo.project.name} ${Date.now()}`
  await loginWithoutJavaScript(page, USERS.editor)
  // The account page is rendered per request: the login visibly worked.
  await expect(page.getByTestId('account-who')).toHaveText(`Logged in as ${USERS.editor.name} (editor).`)
  await expect(page.getByTestId('who')).toHaveText(`${USERS.editor.name} (editor)`)
  await expect(page.getByTestId('account-logout')).toBeVisible()
  await expect(page.getByTestId('account-logout-everywhere')).toBeVisible()

  // The form token is in this per-request page, never in a prerendered one.
  const { formToken } = await (await page.request.get('/api/_auth/session')).json() as { formToken: string }
  expect(formToken).toMatch(/^[\w-]{43}$/)
  expect(await (await page.request.get('/')).text()).not.toContain(formToken)

  await page.getByRole('link', { name: 'New post' }).click()
  await expect(page.getByRole('heading', { name: 'New post' })).toBeVisible()
  await expect(page.locator('input[name="_csrf"]')).toHaveValue(formToken)

  // A mistake first: no title. The form comes back with the reason and what was typed.
  await page.getByLabel('Body').fill('Written <without> JavaScript.')
  await page.getByTestId('published').uncheck()
  await control.clearRequests()
  await page.getByTestId('save').click()
  await page.waitForURL(url => url.pathname === '/posts/new' && url.searchParams.get('error') === 'VALIDATION_FAILED')
  await expect(page.getByTestId('form-message')).toHaveText('Some fields need attention.')
  await expect(page.getByTestId('title-error')).toHaveText('A title is required')
  await expect(page.getByLabel('Body')).toHaveValue('Written <without> JavaScript.')
  await expect(page.getByTestId('published')).not.toBeChecked()
  expect((await control.requests()).filter(isCockpitWrite), 'nothing was written').toEqual([])

  const created = page.waitForResponse(r => new URL(r.url()).pathname === '/api/cockpit/form-posts/posts/create')
  await page.getByLabel('Title').fill(title)
  await page.getByTestId('save').click()
  const response = await created
  expect(response.status()).toBe(303)
  expect(response.request().headers()['content-type']).toBe('application/x-www-form-urlencoded')
  await page.waitForURL(/\/posts\/[^/]+\/edit\?created=1$/)
  await expect(page.getByTestId('created-message')).toHaveText('Post created.')
  expect((await control.requests()).filter(isCockpitWrite)).toHaveLength(1)
  const id = new URL(page.url()).pathname.split('/')[2]!
  await expect(page.getByLabel('Title')).toHaveValue(title)
  await expect(page.getByTestId('published')).not.toBeChecked()

  // The edit form posts too; the unchecked box was stored as false, now it is checked.
  await page.getByLabel('Title').fill(`${title} (edited)`)
  await page.getByTestId('published').check()
  await page.getByTestId('save').click()
  await page.waitForURL(url => url.pathname === `/posts/${id}/edit` && url.searchParams.get('saved') === '1')
  await expect(page.getByTestId('saved-message')).toHaveText('Saved.')
  const stored = await (await page.request.get(`/api/cockpit/items/posts/${id}`)).json()
  expect(stored).toMatchObject({ title: `${title} (edited)`, body: 'Written <without> JavaScript.', published: true })

  // The post's own page (rendered at run time: it is newer than the build) shows it.
  await page.goto(`/posts/${id}`)
  await expect(page.getByTestId('post-title')).toHaveText(`${title} (edited)`)

  const logout = page.waitForResponse(r => new URL(r.url()).pathname === '/api/auth/logout')
  await page.getByTestId('logout').click()
  expect((await logout).status()).toBe(303)
  await page.waitForURL(url => url.pathname === '/')
  expect(await (await page.request.get('/api/_auth/session')).json()).toEqual({})
  await page.goto('/account')
  expect(new URL(page.url()).pathname).toBe('/login')
})

test('a form post with another session\'s token, or none, changes nothing', async ({ page, browser, control }) => {
  await loginWithoutJavaScript(page, USERS.editor)
  const other = await browser.newContext({ javaScriptEnabled: false, baseURL: new URL(page.url()).origin })
  const otherPage = await other.newPage()
  await loginWithoutJavaScript(otherPage, USERS.editor)
  const { formToken: otherToken } = await (await otherPage.request.get('/api/_auth/session')).json() as { formToken: string }
  await other.close()

  await page.goto('/posts/new')
  await control.clearRequests()
  // The page's form, posted by hand (same origin) with the other session's token, then with none.
  const origin = new URL(page.url()).origin
  for (const token of [otherToken, '']) {
    const response = await page.request.post('/api/cockpit/form-posts/posts/create', {
      headers: { origin },
      form: { _csrf: token, _back: '/posts/new', _success: '/', title: 'Forged', published: 'on' },
      maxRedirects: 0,
    })
    expect(response.status()).toBe(303)
    expect(new URL(response.headers().location!, origin).searchParams.get('error')).toBe('CSRF_TOKEN_INVALID')
  }
  expect((await control.requests()).filter(isCockpitWrite), 'nothing was written').toEqual([])
})

test('log out everywhere, without JavaScript, ends the other browser\'s session too', async ({ page, browser }) => {
  await loginWithoutJavaScript(page, USERS.guest)
  const other = await browser.newContext({ javaScriptEnabled: false, baseURL: new URL(page.url()).origin })
  const otherPage = await other.newPage()
  await loginWithoutJavaScript(otherPage, USERS.guest)

  const answer = page.waitForResponse(r => new URL(r.url()).pathname === '/api/auth/logout-all')
  await page.getByTestId('account-logout-everywhere').click()
  expect((await answer).status()).toBe(303)
  await page.waitForURL(url => url.pathname === '/')
  expect(await (await page.request.get('/api/_auth/session')).json()).toEqual({})

  await otherPage.goto('/account')
  expect(new URL(otherPage.url()).pathname).toBe('/login')
  expect(await (await otherPage.request.get('/api/_auth/session')).json()).toEqual({})
  await other.close()
})

test('a missing or unpublished post, and an unknown page, are 404 pages in the app\'s layout with a way back', async ({ page }) => {
  for (const path of ['/posts/does-not-exist', '/posts/6b0bc3c7686c82ffb095aa87', '/posts/7ba658276634384c50000306', '/no/such/page']) {
    const response = await page.goto(path)
    expect(response!.status(), path).toBe(404)
    await expect(page.getByTestId('error-title')).toHaveText('Not found')
    await expect(page.getByTestId('login-link')).toBeVisible()
    await page.getByTestId('error-back').click()
    await page.waitForURL(url => url.pathname === '/')
    await expect(page.getByTestId('post-list')).toBeVisible()
  }
})

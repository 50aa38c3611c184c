import type { Browser, Page } from '@playwright/test'
import { expect, isCockpitWrite, loginThroughPage, test, USERS, waitForHydration } from './fixtures'

const ADMIN = { username: 'admin', password: 'admin-pass-123' }

/** A second person in a browser context of their own (cookies not shared), logged in as `user`. */
async function otherEditor(browser: Browser, page: Page, user: { username: string, password: string }, javaScriptEnabled = true): Promise<Page> {
  const context = await browser.newContext({ baseURL: new URL(page.url()).origin, javaScriptEnabled })
  const other = await context.newPage()
  if (javaScriptEnabled) {
    await loginThroughPage(other, user)
  }
  else {
    await other.goto('/login')
    await other.getByLabel('Username').fill(user.username)
    await other.getByLabel('Password').fill(user.password)
    await other.getByTestId('login-submit').click()
    await other.waitForURL(url => url.pathname === '/account')
  }
  return other
}

async function createPost(page: Page, title: string): Promise<string> {
  const origin = new URL(page.url()).origin
  const response = await page.request.post('/api/cockpit/items/posts', { data: { title, body: 'First version.', published: true }, headers: { origin } })
  expect(response.status()).toBe(201)
  return (await response.json() as { _id: string })._id
}

test('two people edit one post: the second save is told the post changed, and can reload it', async ({ page, browser, control }, testInfo) => {
  await loginThroughPage(page, USERS.editor)
  const title = `Shared post ${testInfo.project.name} ${Date.now()}`
  const id = await createPost(page, title)
  const other = await otherEditor(browser, page, ADMIN)

  await page.goto(`/posts/${id}/edit`)
  await waitForHydration(page)
  await other.goto(`/posts/${id}/edit`)
  await waitForHydration(other)

  await page.getByLabel('Title').fill(`${title} (by the editor)`)
  await page.getByTestId('save').click()
  await expect(page.getByTestId('form-message')).toHaveText('Saved.')

  await control.clearRequests()
  await other.getByLabel('Body').fill('The admin\'s version.')
  await other.getByTestId('save').click()
  await expect(other.getByTestId('form-message')).toContainText('Someone else changed this post')
  expect((await control.requests()).filter(isCockpitWrite)).toHaveLength(0)

  await other.getByTestId('reload').click()
  await expect(other.getByLabel('Title')).toHaveValue(`${title} (by the editor)`)
  await expect(other.getByTestId('form-message')).toHaveCount(0)
  await other.getByLabel('Body').fill('The admin\'s version, on top of the editor\'s.')
  await other.getByTestId('save').click()
  await expect(other.getByTestId('form-message')).toHaveText('Saved.')

  // The editor's own form is now behind: its next save is refused as well, nothing is overwritten.
  await page.getByLabel('Title').fill(`${title} (stale)`)
  await page.getByTestId('save').click()
  await expect(page.getByTestId('form-message')).toContainText('Someone else changed this post')
  await other.context().close()
})

test('without JavaScript, the form carries the version it was rendered from', async ({ page, browser }, testInfo) => {
  await loginThroughPage(page, USERS.editor)
  const title = `No-JS shared post ${testInfo.project.name} ${Date.now()}`
  const id = await createPost(page, title)
  const other = await otherEditor(browser, page, ADMIN, false)
  await other.goto(`/posts/${id}/edit`)

  await page.goto(`/posts/${id}/edit`)
  await waitForHydration(page)
  await page.getByLabel('Title').fill(`${title} (by the editor)`)
  await page.getByTestId('save').click()
  await expect(page.getByTestId('form-message')).toHaveText('Saved.')

  await other.getByLabel('Body').fill('Typed without JavaScript.')
  await other.getByTestId('save').click()
  await other.waitForURL(url => url.searchParams.get('error') === 'CONFLICT')
  await expect(other.getByTestId('form-message')).toContainText('Someone else changed this post')
  await other.getByTestId('reload').click()
  await other.waitForURL(url => url.pathname === `/posts/${id}/edit` && !url.search)
  await expect(other.getByLabel('Title')).toHaveValue(`${title} (by the editor)`)
  await other.context().close()
})

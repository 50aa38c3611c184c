import { expect, isCockpitWrite, loginThroughPage, test, USERS, waitForHydration } from './fixtures'

test('an editor logs in, creates a post, sees it listed, edits it, and logs out', async ({ page, control }, testInfo) => {
  const title = `Browser post ${testInfo.project.name} ${Date.now()}`
  const edited = `${title} (edited)`

  await loginThroughPage(page, USERS.editor)
  await expect(page.getByTestId('who')).toContainText(USERS.editor.name)

  await page.getByRole('link', { name: 'New post' }).click()
  await expect(page.getByRole('heading', { name: 'New post' })).toBeVisible()
  await expect(page.getByTestId('readonly-message')).toHaveCount(0)
  await page.getByLabel('Title').fill(title)
  await page.getByLabel('Body').fill('Written in a real browser.')
  await control.clearRequests()
  await page.getByTestId('save').click()
  await expect(page.getByTestId('created-message')).toHaveText('Post created.')
  // The one write reached Cockpit (so the guest spec's "no write" check can see writes).
  expect((await control.requests()).filter(isCockpitWrite)).toHaveLength(1)
  await expect(page).toHaveURL(/\/posts\/[^/]+\/edit\?created=1$/)
  const id = new URL(page.url()).pathname.split('/')[2]!

  // The home page is prerendered: the new post must still show up in its list.
  await page.getByRole('link', { name: 'Posts', exact: true }).click()
  await expect(page.getByTestId('post-list').getByRole('link', { name: title })).toBeVisible()
  await page.goto('/')
  await waitForHydration(page)
  await expect(page.getByTestId('post-list').getByRole('link', { name: title })).toBeVisible()

  await page.goto(`/posts/${id}/edit`)
  await expect(page.getByLabel('Title')).toHaveValue(title)
  await page.getByLabel('Title').fill(edited)
  await page.getByTestId('save').click()
  await expect(page.getByTestId('form-message')).toHaveText('Saved.')

  await page.reload()
  await expect(page.getByLabel('Title')).toHaveValue(edited)
  await page.goto(`/posts/${id}`)
  await expect(page.getByTestId('post-title')).toHaveText(edited)

  await page.getByTestId('logout').click()
  await expect(page.getByTestId('login-link')).toBeVisible()
  await expect(page.getByTestId('who')).toHaveCount(0)
  await page.reload()
  await expect(page.getByTestId('login-link')).toBeVisible()
  expect(await (await page.request.get('/api/_auth/session')).json()).toEqual({})
})

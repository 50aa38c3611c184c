import { expect, getOldestPostId, isCockpitWrite, loginThroughPage, test, USERS } from './fixtures'

test('a guest is told the editor is read-only, a save is refused, and no write reaches Cockpit', async ({ page, control }) => {
  await loginThroughPage(page, USERS.guest)
  await expect(page.getByTestId('who')).toContainText(`${USERS.guest.name} (guest)`)
  await expect(page.getByRole('link', { name: 'New post' })).toHaveCount(0)

  await page.goto('/posts/new')
  await expect(page.getByTestId('readonly-message')).toHaveText('Your account (guest) can read posts but not write them. Saving will be refused.')

  await control.clearRequests()
  await page.getByLabel('Title').fill('A guest tries to write')
  const refused = page.waitForResponse(r => new URL(r.url()).pathname === '/api/cockpit/items/posts' && r.request().method() === 'POST')
  await page.getByTestId('save').click()
  const response = await refused
  expect(response.status()).toBe(403)
  expect((await response.json()).data.code).toBe('FORBIDDEN')
  await expect(page.getByTestId('form-message')).toHaveText('Your account may read posts but not save them.')
  await expect(page).toHaveURL(/\/posts\/new$/)

  // An existing post: the edit form is shown read-only, and its save is refused too.
  await page.goto(`/posts/${await getOldestPostId(page)}/edit`)
  await expect(page.getByTestId('readonly-message')).toHaveText('Your account (guest) can read posts but not edit them.')
  await page.getByLabel('Title').fill('A guest tries to edit')
  await page.getByTestId('save').click()
  await expect(page.getByTestId('form-message')).toHaveText('You can only edit posts you created.')

  const requests = await control.requests()
  expect(requests.filter(isCockpitWrite), 'no write reached Cockpit').toEqual([])
  expect(requests.filter(r => r.method !== 'GET' && r.method !== 'POST'), 'no PATCH, PUT or DELETE reached Cockpit').toEqual([])
})

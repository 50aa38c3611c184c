import { expect, getOldestPostId, isCockpitWrite, loginThroughPage, test, USERS, waitForHydration } from './fixtures'

test('a guest gets read-only forms with the reason, the server refuses its writes anyway, and no write reaches Cockpit', async ({ page, control }) => {
  await loginThroughPage(page, USERS.guest)
  await expect(page.getByTestId('who')).toContainText(`${USERS.guest.name} (guest)`)
  await expect(page.getByTestId('account-can')).toHaveText('You may read published posts. Your account cannot write or edit posts.')
  await expect(page.getByRole('link', { name: 'New post' })).toHaveCount(0)

  await control.clearRequests()
  await page.goto('/posts/new')
  await waitForHydration(page)
  await expect(page.getByTestId('readonly-reason')).toHaveText('Your account (guest) can read posts but not write them, so this form is read-only.')
  await expect(page.getByLabel('Title')).toBeDisabled()
  await expect(page.getByTestId('save')).toBeDisabled()

  // The form only tells the truth; the gateway is what refuses: the JSON route, called as the page would.
  const refused = await page.evaluate(async () => {
    const response = await fetch('/api/cockpit/items/posts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'A guest tries to write', published: true }) })
    return { status: response.status, code: (await response.json()).data.code }
  })
  expect(refused).toEqual({ status: 403, code: 'FORBIDDEN' })

  // An existing post: the edit form is read-only too.
  await page.goto(`/posts/${await getOldestPostId(page)}/edit`)
  await expect(page.getByTestId('readonly-reason')).toHaveText('Your account (guest) can read posts but not edit them, so this form is read-only.')
  await expect(page.getByTestId('save')).toBeDisabled()

  const requests = await control.requests()
  expect(requests.filter(isCockpitWrite), 'no write reached Cockpit').toEqual([])
  expect(requests.filter(r => r.method !== 'GET' && r.method !== 'POST'), 'no PATCH, PUT or DELETE reached Cockpit').toEqual([])
})

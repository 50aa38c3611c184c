import { expect, loginThroughPage, test, USERS, waitForHydration } from './fixtures'

test('a field\'s error goes as soon as the field is fixed', async ({ page }) => {
  await loginThroughPage(page, USERS.editor)
  await page.goto('/posts/new')
  await waitForHydration(page)
  await page.getByTestId('save').click()
  await expect(page.getByTestId('title-error')).toHaveText('A title is required')
  await page.getByLabel('Title').fill('Fixed')
  await expect(page.getByTestId('title-error')).toHaveCount(0)
  await expect(page.getByLabel('Title')).toHaveAttribute('aria-invalid', 'false')
})

test('/login sends a logged-in user to the account page', async ({ page }) => {
  await loginThroughPage(page, USERS.guest)
  await page.goto('/login')
  await expect(page).toHaveURL(/\/account$/)
  await expect(page.getByTestId('account-who')).toHaveText(`Logged in as ${USERS.guest.name} (guest).`)
})

test('a post newer than the build opens without payload 404s, and a missing one is a 404 page with a way back', async ({ page }, testInfo) => {
  await loginThroughPage(page, USERS.editor)
  await waitForHydration(page)
  const title = `After the build ${testInfo.project.name} ${Date.now()}`
  await page.evaluate(async (title) => {
    const response = await fetch('/api/cockpit/items/posts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title, published: true }) })
    if (response.status !== 201) throw new Error(`create: ${response.status}`)
  }, title)

  const payloads: string[] = []
  page.on('response', (response) => {
    if (response.url().includes('_payload.json') && response.status() !== 200) payloads.push(`${response.status()} ${response.url()}`)
  })
  await page.goto('/')
  await waitForHydration(page)
  // A client-side navigation: only posts in the build's manifest have a payload file to ask for.
  await page.getByTestId('post-list').getByRole('link', { name: title }).click()
  await expect(page.getByTestId('post-title')).toHaveText(title)
  expect(payloads, 'no payload request failed').toEqual([])

  const response = await page.goto('/posts/does-not-exist')
  expect(response!.status()).toBe(404)
  await waitForHydration(page)
  await expect(page.getByTestId('error-title')).toHaveText('Not found')
  await expect(page.getByTestId('who')).toHaveText(`${USERS.editor.name} (editor)`)
  await page.getByTestId('error-back').click()
  await expect(page.getByTestId('post-list')).toBeVisible()
  expect(payloads).toEqual([])
})

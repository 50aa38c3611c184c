import { expect, getOldestPostId, loginThroughPage, test, USERS, waitForHydration } from './fixtures'

test('a prerendered page shows the logged-in user after hydration', async ({ page }) => {
  await loginThroughPage(page, USERS.editor)

  const response = await page.goto('/')
  // The HTML is the build's static file: it knows no user (it offers the login link), the browser fills the header in.
  const html = await response!.text()
  expect(html).toContain('data-testid="login-link"')
  expect(html).not.toContain(USERS.editor.name)
  await waitForHydration(page)
  await expect(page.getByTestId('who')).toHaveText(`${USERS.editor.name} (editor)`)
  await expect(page.getByRole('link', { name: 'New post' })).toBeVisible()

  // A post page (prerendered for the build's posts, i.e. the v2 seed) does the same, and offers editing.
  await page.goto(`/posts/${await getOldestPostId(page)}`)
  await waitForHydration(page)
  await expect(page.getByTestId('who')).toHaveText(`${USERS.editor.name} (editor)`)
  await expect(page.getByTestId('edit-link')).toBeVisible()
})

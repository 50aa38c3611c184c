import { expect, test, USERS, waitForHydration } from './fixtures'

test('a wrong password is explained, and the visitor stays logged out', async ({ page }) => {
  await page.goto('/login')
  await waitForHydration(page)
  await page.getByLabel('Username').fill(USERS.guest.username)
  await page.getByLabel('Password').fill('not-the-password')
  const answer = page.waitForResponse(r => new URL(r.url()).pathname === '/api/auth/login')
  await page.getByTestId('login-submit').click()
  expect((await answer).status()).toBe(401)
  await expect(page.getByTestId('login-error')).toHaveText('Wrong username or password.')
  await expect(page).toHaveURL(/\/login$/)
  await expect(page.getByTestId('login-link')).toBeVisible()
  expect(await (await page.request.get('/api/_auth/session')).json()).toEqual({})
})

test('a rate-limited login says when to try again', async ({ page, control }) => {
  // The strict gateway allows 3 free failures per account, then a 600 s wait; the 4th is refused before Cockpit is asked.
  const strict = await control.strictURL()
  await page.goto(`${strict}/login`)
  await waitForHydration(page)
  // A fresh username each run: the budget is per username and outlives the test.
  await page.getByLabel('Username').fill(`ratelimit-probe-${Date.now().toString(36)}`)
  await page.getByLabel('Password').fill('not-the-password')
  for (let attempt = 1; attempt <= 3; attempt++) {
    const answer = page.waitForResponse(r => new URL(r.url()).pathname === '/api/auth/login')
    await page.getByTestId('login-submit').click()
    expect((await answer).status(), `attempt ${attempt}`).toBe(401)
    await expect(page.getByTestId('login-error')).toHaveText('Wrong username or password.')
  }
  const limited = page.waitForResponse(r => new URL(r.url()).pathname === '/api/auth/login')
  await page.getByTestId('login-submit').click()
  const response = await limited
  expect(response.status()).toBe(429)
  const retryAfter = Number(response.headers()['retry-after'])
  expect(retryAfter).toBeGreaterThan(540)
  expect(retryAfter).toBeLessThanOrEqual(600)
  // 541–600 s, said in whole minutes rounded up: never shorter than the real wait.
  await expect(page.getByTestId('login-error')).toHaveText('Too many attempts. Try again in 10 minutes.')
})

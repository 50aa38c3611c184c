import { expect, loginThroughPage, test, waitForHydration } from './fixtures'

const ADMIN = { username: 'admin', password: 'admin-pass-123' }
const SEED_SETTINGS = { siteTitle: 'Acceptance Site', tagline: 'Real Cockpit, seeded for acceptance tests' }

test('the site title and tagline from Cockpit\'s settings are in the prerendered HTML', async ({ page }) => {
  const response = await page.goto('/')
  const html = await response!.text()
  expect(html).toMatch(/data-testid="site-title"[^>]*>Acceptance Site</)
  expect(html).toContain(SEED_SETTINGS.tagline)
  await waitForHydration(page)
  await expect(page.getByTestId('site-title')).toHaveText(SEED_SETTINGS.siteTitle)
  // Every page shows them, a page rendered per request too.
  await page.goto('/login')
  await expect(page.getByTestId('site-tagline')).toHaveText(SEED_SETTINGS.tagline)
})

test('an admin edits the site settings (v2), or is told Cockpit v1 cannot (v1)', async ({ page, control }, testInfo) => {
  const v1 = testInfo.project.name === 'cockpit-v1'
  await loginThroughPage(page, ADMIN)
  await page.getByTestId('settings-link').click()
  await page.waitForURL(url => url.pathname === '/settings')
  await waitForHydration(page)
  await expect(page.getByLabel('Site title')).toHaveValue(SEED_SETTINGS.siteTitle)
  await control.clearRequests()
  await page.getByLabel('Tagline').fill('Edited from the browser')
  await page.getByRole('button', { name: 'Save settings' }).click()
  if (v1) {
    await expect(page.getByTestId('settings-error')).toContainText('no API to change singletons')
    expect((await control.requests()).filter(r => r.method === 'POST')).toEqual([])
    return
  }
  await expect(page.getByTestId('settings-saved')).toBeVisible()
  const writes = (await control.requests()).filter(r => r.method === 'POST' && r.path === '/api/content/item/settings')
  expect(writes).toHaveLength(1)

  // The home page is the build's HTML (the seed's tagline); once hydrated it shows the live one.
  const response = await page.goto('/')
  expect(await response!.text()).toContain(SEED_SETTINGS.tagline)
  await waitForHydration(page)
  await expect(page.getByTestId('site-tagline')).toHaveText('Edited from the browser')
  await expect(page.getByTestId('site-title')).toHaveText(SEED_SETTINGS.siteTitle)

  // Put the seed value back for the other specs.
  await page.goto('/settings')
  await waitForHydration(page)
  await page.getByLabel('Tagline').fill(SEED_SETTINGS.tagline)
  await page.getByRole('button', { name: 'Save settings' }).click()
  await expect(page.getByTestId('settings-saved')).toBeVisible()
})

test('a visitor is not offered the settings form', async ({ page }) => {
  await page.goto('/settings')
  await expect(page.getByTestId('settings-readonly')).toBeVisible()
  await expect(page.getByTestId('settings-form')).toHaveCount(0)
})

test('a Cockpit image loads through the gateway\'s image route as a PNG', async ({ page }) => {
  const imageResponse = page.waitForResponse(response => /\/api\/cockpit\/images\/[0-9a-f]{24}\?w=\d+/.test(response.url()))
  await page.goto('/about')
  const response = await imageResponse
  expect(response.status()).toBe(200)
  expect(response.headers()['content-type']).toBe('image/png')
  expect(response.headers()['cache-control']).toBe('public, max-age=31536000, immutable')
  const image = page.getByTestId('cockpit-image')
  await expect(image).toBeVisible()
  await expect.poll(() => image.evaluate(img => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0)
})

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false })

  test('an admin saves the settings form (v2), or is told Cockpit v1 cannot (v1)', async ({ page, control }, testInfo) => {
    const v1 = testInfo.project.name === 'cockpit-v1'
    await page.goto('/login')
    await page.getByLabel('Username').fill(ADMIN.username)
    await page.getByLabel('Password').fill(ADMIN.password)
    await page.getByTestId('login-submit').click()
    await page.waitForURL(url => url.pathname === '/account')
    await page.goto('/settings')
    await control.clearRequests()
    await page.getByLabel('Tagline').fill('Saved without JavaScript')
    const post = page.waitForResponse(r => new URL(r.url()).pathname === '/api/cockpit/form-posts/singletons/settings/update')
    await page.getByRole('button', { name: 'Save settings' }).click()
    expect((await post).status()).toBe(303)
    if (v1) {
      await page.waitForURL(url => url.searchParams.get('error') === 'NOT_SUPPORTED')
      await expect(page.getByTestId('settings-error')).toContainText('no API to change singletons')
      await expect(page.getByLabel('Tagline')).toHaveValue('Saved without JavaScript')
      expect((await control.requests()).filter(r => r.method === 'POST')).toEqual([])
      return
    }
    await page.waitForURL(url => url.searchParams.get('saved') === '1')
    await expect(page.getByTestId('settings-saved')).toBeVisible()
    await expect(page.getByTestId('site-tagline')).toHaveText('Saved without JavaScript')

    await page.getByLabel('Tagline').fill(SEED_SETTINGS.tagline)
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.waitForURL(url => url.searchParams.get('saved') === '1')
    await expect(page.getByTestId('site-tagline')).toHaveText(SEED_SETTINGS.tagline)
  })
})

import type { Page } from '@playwright/test'
import { expect, test, waitForHydration } from './fixtures'

// The demo's contact form, sent by an anonymous visitor with and without JavaScript, against both Cockpit
// versions: what reaches the emulator's store, and the honeypot and too-fast refusals. The gateway under test
// asks for 3 s between the token (embedded in the page, rendered per request, or fetched by the browser on a
// client-side navigation) and the submission.
const MIN_SUBMIT_MS = 3100

/** A message text no other test (or project) sends. */
function uniqueText(label: string): string {
  return `${label} ${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

async function fillContactForm(page: Page, message: string): Promise<void> {
  await page.getByLabel('Name').fill('Playwright Visitor')
  await page.getByLabel('E-mail').fill('visitor@example.test')
  await page.getByLabel('Message').fill(message)
}

test.describe('with JavaScript', () => {
  test('the contact form is sent as JSON and stored in Cockpit', async ({ page, control }) => {
    const message = uniqueText('Hello with JavaScript')
    await page.goto('/contact')
    await waitForHydration(page)
    await fillContactForm(page, message)
    await page.waitForTimeout(MIN_SUBMIT_MS)
    const post = page.waitForResponse(r => new URL(r.url()).pathname === '/api/cockpit/forms/contact')
    await page.getByTestId('contact-submit').click()
    const response = await post
    expect(response.request().headers()['content-type']).toContain('application/json')
    expect(response.status()).toBe(201)
    expect(await response.json()).toEqual({ ok: true })
    await page.waitForURL(url => url.pathname === '/contact/thanks')
    await expect(page.getByTestId('contact-thanks')).toBeVisible()
    expect(await control.messages()).toContainEqual({ name: 'Playwright Visitor', email: 'visitor@example.test', message })
  })

  test('a form sent too fast is refused with the reason, and goes through once the visitor waited', async ({ page, control }) => {
    const message = uniqueText('Too fast with JavaScript')
    // Through the menu: the browser fetches the token as the page opens, so the send below comes well within 3 s.
    await page.goto('/')
    await waitForHydration(page)
    const token = page.waitForResponse(r => new URL(r.url()).pathname === '/api/cockpit/forms/contact/token')
    await page.getByRole('link', { name: 'Contact' }).click()
    expect((await token).status()).toBe(200)
    await fillContactForm(page, message)
    await page.getByTestId('contact-submit').click()
    await expect(page.getByTestId('contact-error')).toContainText('quicker than a person types')
    expect(new URL(page.url()).pathname).toBe('/contact')
    expect((await control.messages()).map(m => m.message)).not.toContain(message)
    await page.waitForTimeout(MIN_SUBMIT_MS)
    await page.getByTestId('contact-submit').click()
    await page.waitForURL(url => url.pathname === '/contact/thanks')
    expect((await control.messages()).filter(m => m.message === message)).toHaveLength(1)
  })

  test('a filled honeypot looks like a success to the bot, and nothing is stored', async ({ page, control }) => {
    const message = uniqueText('Bot with JavaScript')
    await page.goto('/contact')
    await waitForHydration(page)
    await fillContactForm(page, message)
    await page.getByTestId('contact-honeypot').fill('http://spam.example')
    await page.waitForTimeout(MIN_SUBMIT_MS)
    await page.getByTestId('contact-submit').click()
    await page.waitForURL(url => url.pathname === '/contact/thanks')
    expect((await control.messages()).map(m => m.message)).not.toContain(message)
  })
})

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false })

  test('the contact form is posted (303 to the thank-you page) and stored in Cockpit', async ({ page, control }) => {
    const message = uniqueText('Hello without JavaScript')
    await page.goto('/contact')
    await fillContactForm(page, message)
    await page.waitForTimeout(MIN_SUBMIT_MS)
    const post = page.waitForResponse(r => new URL(r.url()).pathname === '/api/cockpit/forms/contact')
    await page.getByTestId('contact-submit').click()
    const response = await post
    expect(response.request().headers()['content-type']).toBe('application/x-www-form-urlencoded')
    expect(response.status()).toBe(303)
    expect(response.headers().location).toBe('/contact/thanks')
    await page.waitForURL(url => url.pathname === '/contact/thanks')
    await expect(page.getByTestId('contact-thanks')).toBeVisible()
    expect(await control.messages()).toContainEqual({ name: 'Playwright Visitor', email: 'visitor@example.test', message })
  })

  test('a form posted too fast comes back with the reason, and nothing is stored', async ({ page, control }) => {
    const message = uniqueText('Too fast without JavaScript')
    await page.goto('/contact')
    await fillContactForm(page, message)
    await page.getByTestId('contact-submit').click()
    await page.waitForURL(url => url.pathname === '/contact' && url.searchParams.get('error') === 'FORM_TOO_FAST')
    await expect(page.getByTestId('contact-error')).toContainText('quicker than a person types')
    expect(page.url()).not.toContain(encodeURIComponent(message).slice(0, 10))
    expect((await control.messages()).map(m => m.message)).not.toContain(message)
  })

  test('a filled honeypot is answered like a success, and nothing is stored', async ({ page, control }) => {
    const message = uniqueText('Bot without JavaScript')
    await page.goto('/contact')
    await fillContactForm(page, message)
    await page.getByTestId('contact-honeypot').fill('spam')
    await page.waitForTimeout(MIN_SUBMIT_MS)
    await page.getByTestId('contact-submit').click()
    await page.waitForURL(url => url.pathname === '/contact/thanks')
    expect((await control.messages()).map(m => m.message)).not.toContain(message)
  })
})

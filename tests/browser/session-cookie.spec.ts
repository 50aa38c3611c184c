import { expect, loginThroughPage, test, USERS } from './fixtures'

test('the session cookie is HttpOnly and invisible to scripts', async ({ page, context }) => {
  await loginThroughPage(page, USERS.editor)
  const cookie = (await context.cookies()).find(c => c.name === 'cockpit-session')
  expect(cookie, 'a session cookie was set').toBeDefined()
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' })
  const visible = await page.evaluate(() => document.cookie)
  expect(visible).not.toContain('cockpit-session')
  expect(visible).not.toContain(cookie!.value)
})

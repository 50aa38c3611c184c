// Not part of the suite: `UPDATE_DOCS_SCREENSHOT=1 npx playwright test docs-screenshot --project cockpit-v2`
// writes docs/screenshot.png (the home page and the editor form, side by side) from a fresh seed.
import { expect, loginThroughPage, test, USERS, waitForHydration } from './fixtures'

// The demo's content column (46rem wide, centred) within a 1280 × 800 window.
const COLUMN = { x: 240, y: 0, width: 800, height: 620 }

test('docs/screenshot.png', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 })
  await loginThroughPage(page, USERS.editor)
  await page.goto('/')
  await waitForHydration(page)
  // The live list (an editor also sees unpublished posts), not the build's.
  await expect(page.getByTestId('draft-badge').first()).toBeVisible()
  const home = await page.screenshot({ clip: COLUMN })

  await page.getByRole('link', { name: 'New post' }).click()
  await page.getByLabel('Title').fill('Notes from the gateway')
  await page.getByLabel('Body').fill('Saved through the server: the browser never holds a Cockpit key.')
  await page.getByLabel('Body').blur()
  const editor = await page.screenshot({ clip: COLUMN })

  // Both content columns side by side (at 80 %) on one 1280-pixel-wide image.
  const src = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`
  await page.setViewportSize({ width: 1280, height: COLUMN.height * 0.8 })
  await page.setContent(`<body style="margin:0;display:flex;background:#d5d9e3;gap:2px">
    <img src="${src(home)}" style="width:639px"><img src="${src(editor)}" style="width:639px"></body>`)
  await page.screenshot({ path: 'docs/screenshot.png' })
})

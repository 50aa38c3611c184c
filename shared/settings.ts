import { z } from 'zod'

/** The seed's `settings` singleton: site title and tagline, shown on every page. */
export const settingsSchema = z.object({
  siteTitle: z.string().trim().min(1, 'A title is required').max(120, 'At most 120 characters'),
  tagline: z.string().trim().max(300, 'At most 300 characters'),
})

/** Settings as written by the settings form. */
export type SettingsInput = z.infer<typeof settingsSchema>

/** Everyone reads the site settings; only admins change them (v2; v1 has no REST write). */
export const settings = defineCockpitSingleton('settings', {
  schema: settingsSchema,
  read: 'public',
  update: ['admin'],
})

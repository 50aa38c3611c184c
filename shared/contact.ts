import { z } from 'zod'

/** What a visitor sends with the contact form: the fields of the seed's v2 `messages` model. */
export const contactSchema = z.object({
  name: z.string().trim().min(1, 'Your name is required').max(200, 'At most 200 characters'),
  email: z.email('An e-mail address is required').max(320, 'At most 320 characters'),
  message: z.string().trim().min(1, 'A message is required').max(5000, 'At most 5000 characters'),
})

/** A contact message as typed. */
export type ContactInput = z.infer<typeof contactSchema>

/** The contact form: v2 stores it as an item of `messages` (with the submit key), v1 as an entry of the form `contact`. */
export const contact = defineCockpitForm('contact', {
  schema: contactSchema,
  model: 'messages',
  form: 'contact',
})

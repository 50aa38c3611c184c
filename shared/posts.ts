import { z } from 'zod'

/** The demo's `posts` model: exactly the reference seed's fields (`title`, `body`, `published`). */
export const postSchema = z.object({
  title: z.string().trim().min(1, 'A title is required').max(200, 'At most 200 characters'),
  body: z.string().max(20_000, 'At most 20000 characters').optional(),
  published: z.boolean(),
})

/** A post as written by the forms. */
export type PostInput = z.infer<typeof postSchema>

/** Visitors read published posts; editors write; editors change their own posts, admins any. */
export const posts = defineCockpitModel('posts', {
  schema: postSchema,
  read: 'public',
  create: ['editor', 'admin'],
  update: ['admin', 'owner'],
  delete: ['admin', 'owner'],
  publish: ['admin'],
  filterable: ['published', 'title', '_created'],
  regexFields: ['title'],
  sortable: ['_created', '_modified', 'title'],
  publicFilter: { published: true },
})

import { z } from 'zod'

/** A credential string: present, a string (never an object such as `{"$eq": …}`), at most 256 characters. */
const credential = z.string().min(1, 'Required').max(256, 'At most 256 characters')

/** Body of `POST /api/auth/login`, as JSON or as an HTML form post. Unknown keys are refused. */
export const loginSchema = z.object({
  username: credential.transform(v => v.trim()).pipe(z.string().min(1, 'Required')),
  password: credential,
  /** Where a form post is sent after a successful login; only a same-site path is honoured. */
  redirect: z.string().max(2048).optional(),
}).strict()

/** A parsed login body. */
export type LoginInput = z.infer<typeof loginSchema>

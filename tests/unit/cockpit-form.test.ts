import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineCockpitForm } from '../../layers/cockpit-gateway/shared/utils/cockpit-form'

const schema = z.object({ name: z.string(), message: z.string() })

describe('defineCockpitForm', () => {
  it('defaults the v2 model, the v1 form and the honeypot', () => {
    const form = defineCockpitForm('contact', { schema })
    expect(form).toMatchObject({ name: 'contact', model: 'contact', form: 'contact', honeypot: 'website' })
    expect(defineCockpitForm('contact', { schema, model: 'messages', honeypot: 'url' })).toMatchObject({ model: 'messages', form: 'contact', honeypot: 'url' })
  })

  it('makes the schema strict: an unknown field is refused even when the app\'s schema would strip it', () => {
    const form = defineCockpitForm('contact', { schema })
    expect(schema.safeParse({ name: 'a', message: 'b', extra: 1 }).success).toBe(true)
    expect(form.schema.safeParse({ name: 'a', message: 'b', extra: 1 }).success).toBe(false)
    expect(form.schema.safeParse({ name: 'a', message: 'b' }).success).toBe(true)
  })

  it('refuses system fields in the schema, a honeypot that is a field, and names that are not plain segments', () => {
    expect(() => defineCockpitForm('contact', { schema: z.object({ _state: z.number() }) })).toThrow(/system fields/)
    expect(() => defineCockpitForm('contact', { schema, honeypot: 'name' })).toThrow(/honeypot/)
    expect(() => defineCockpitForm('contact', { schema, honeypot: '_token' })).toThrow(/honeypot/)
    expect(() => defineCockpitForm('../x', { schema })).toThrow(/Invalid form name/)
    expect(() => defineCockpitForm('contact', { schema, model: 'a/b' })).toThrow(/invalid Cockpit name/)
    expect(() => defineCockpitForm('contact', { schema, form: '' })).toThrow(/invalid Cockpit name/)
  })
})

import { SEED_V1, SEED_V2 } from './seed'

/** One field of a v2 model or a v1 collection. */
export interface ModelField {
  name: string
  type: string
  required: boolean
}

/** A Cockpit v2 content model. */
export interface V2Model {
  name: string
  label: string
  type: 'collection' | 'singleton' | 'tree'
  fields: ModelField[]
}

/** v1 collection ACL actions. */
export type V1AclAction = 'entries_view' | 'entries_create' | 'entries_edit' | 'entries_delete'

/** A Cockpit v1 collection definition (the shape `/api/collections/collection/{name}` returns). */
export interface V1Collection {
  name: string
  label: string
  _id: string
  fields: Array<ModelField & { label: string, localize: boolean, options: unknown[] }>
  sortable: boolean
  in_menu: boolean
  _created: number
  _modified: number
  color: string
  acl: Record<string, Partial<Record<V1AclAction, boolean>>>
  sort: { column: string, dir: number }
  rules: Record<string, { enabled: boolean }>
}

const POST_FIELDS: ModelField[] = [
  { name: 'title', type: 'text', required: true },
  { name: 'body', type: 'wysiwyg', required: false },
  { name: 'published', type: 'boolean', required: false },
]

const SETTINGS_FIELDS: ModelField[] = [
  { name: 'siteTitle', type: 'text', required: false },
  { name: 'tagline', type: 'text', required: false },
]

const MESSAGE_FIELDS: ModelField[] = [
  { name: 'name', type: 'text', required: true },
  { name: 'email', type: 'text', required: true },
  { name: 'message', type: 'textarea', required: true },
]

/** v2 models by name: `posts`, the singleton `settings` and the collection `messages`. */
export const V2_MODELS: Readonly<Record<string, V2Model>> = {
  [SEED_V2.model]: { name: SEED_V2.model, label: 'Posts', type: 'collection', fields: POST_FIELDS },
  [SEED_V2.singleton.model]: { name: SEED_V2.singleton.model, label: 'Settings', type: 'singleton', fields: SETTINGS_FIELDS },
  [SEED_V2.messagesModel]: { name: SEED_V2.messagesModel, label: 'Messages', type: 'collection', fields: MESSAGE_FIELDS },
}

/** v1 collections by name, with the seed groups' ACL. */
export const V1_COLLECTIONS: Readonly<Record<string, V1Collection>> = {
  [SEED_V1.collection]: {
    name: SEED_V1.collection,
    label: 'Posts',
    _id: SEED_V1.collectionId,
    fields: POST_FIELDS.map(field => ({ ...field, label: field.name[0]!.toUpperCase() + field.name.slice(1), localize: false, options: [] })),
    sortable: false,
    in_menu: false,
    _created: SEED_V1.systemCreated,
    _modified: SEED_V1.systemCreated,
    color: '',
    acl: {
      editor: { entries_view: true, entries_create: true, entries_edit: true, entries_delete: true },
      guest: { entries_view: true },
    },
    sort: { column: '_created', dir: -1 },
    rules: { create: { enabled: false }, read: { enabled: false }, update: { enabled: false }, delete: { enabled: false } },
  },
}

/** The model's fields, or `undefined` for an unknown model. Own properties only (`toString` is no model). */
export function getV2Model(name: string): V2Model | undefined {
  return Object.hasOwn(V2_MODELS, name) ? V2_MODELS[name] : undefined
}

/** The collection, or `undefined`. */
export function getV1Collection(name: string): V1Collection | undefined {
  return Object.hasOwn(V1_COLLECTIONS, name) ? V1_COLLECTIONS[name] : undefined
}

/** v1 singleton ACL actions. */
export type V1SingletonAclAction = 'form' | 'data'

/** A Cockpit v1 singleton definition (`storage/singleton/<name>.singleton.php`). */
export interface V1Singleton {
  name: string
  label: string
  _id: string
  fields: Array<ModelField & { label: string, localize: boolean, options: unknown[] }>
  data: null
  acl: Record<string, Partial<Record<V1SingletonAclAction, boolean>>>
  _created: number
  _modified: number
}

/** v1 singletons by name: `settings` (contract 4.2). */
export const V1_SINGLETONS: Readonly<Record<string, V1Singleton>> = {
  [SEED_V1.singleton.name]: {
    name: SEED_V1.singleton.name,
    label: 'Settings',
    _id: SEED_V1.singleton.name,
    fields: [
      { name: 'siteTitle', type: 'text', required: false, label: 'Site title', localize: false, options: [] },
      { name: 'tagline', type: 'text', required: false, label: 'Tagline', localize: false, options: [] },
    ],
    data: null,
    acl: { editor: { form: true, data: true }, guest: { data: true } },
    _created: SEED_V1.singleton.created,
    _modified: SEED_V1.singleton.created,
  },
}

/** A Cockpit v1 form definition (`storage/forms/<name>.form.php`). */
export interface V1Form {
  _id: string
  name: string
  label: string
  save_entry: boolean
  in_menu: boolean
  email_forward: string
  description: string
  _created: number
  _modified: number
}

/** v1 forms by name: `contact` (contract 5.2), which saves entries and mails nothing. */
export const V1_FORMS: Readonly<Record<string, V1Form>> = {
  [SEED_V1.form]: {
    _id: SEED_V1.form,
    name: SEED_V1.form,
    label: 'Contact',
    save_entry: true,
    in_menu: false,
    email_forward: '',
    description: 'acceptance: contact form (fields name, email, message); saves entries, sends no email',
    _created: SEED_V1.singleton.created,
    _modified: SEED_V1.singleton.created,
  },
}

/** The singleton definition, or `undefined`. */
export function getV1Singleton(name: string): V1Singleton | undefined {
  return Object.hasOwn(V1_SINGLETONS, name) ? V1_SINGLETONS[name] : undefined
}

/** The form definition, or `undefined`. */
export function getV1Form(name: string): V1Form | undefined {
  return Object.hasOwn(V1_FORMS, name) ? V1_FORMS[name] : undefined
}

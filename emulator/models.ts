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

/** v2 models by name (the seed has only `posts`). */
export const V2_MODELS: Readonly<Record<string, V2Model>> = {
  [SEED_V2.model]: { name: SEED_V2.model, label: 'Posts', type: 'collection', fields: POST_FIELDS },
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

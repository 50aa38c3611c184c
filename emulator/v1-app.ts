import type { App } from 'h3'
import { createApp, eventHandler } from 'h3'
import { JSON_TYPE, LIME_HTML, sendExact, sendJson, sendSystemError, setCockpitCorsHeaders } from './http'
import type { ApiRequest } from './request'
import { getApiSegments, readApiRequest } from './request'
import type { DocumentStore } from './store'
import { authenticateV1User, listV1Users, saveV1User } from './v1-accounts'
import { getV1Caller, readV1Token } from './v1-auth'
import { getV1CollectionDefinition, getV1Entry, listV1Collections, listV1Entries, removeV1Entries, saveV1Entries } from './v1-collections'
import type { FileStore } from './files'
import { createFileStore } from './files'
import { sendStorageFile } from './storage-files'
import type { V1AssetContext } from './v1-assets'
import { addV1Assets, getV1Asset, listV1Assets, removeV1Assets, transformV1Image, updateV1Assets } from './v1-assets'
import { exportV1Form, isV1CsrfSubmit, submitV1Form } from './v1-forms'
import { getV1SingletonDefinition, getV1SingletonValue, listV1Singletons } from './v1-singletons'

/** Cockpit v1's `Access-Control-Allow-Headers`. */
export const V1_CORS_ALLOW_HEADERS = 'X-Requested-With, Content-Type, Origin, Cache-Control, Pragma, Authorization, Accept, Accept-Encoding, Cockpit-Token'

type Action = (context: V1AssetContext, args: string[]) => Promise<void>

/** `/api/<resource>/<action>/<args…>`; actions are PHP methods, so their names match in any case. */
const RESOURCES: Record<string, Record<string, Action>> = {
  collections: {
    get: (context, [name]) => listV1Entries(context, name),
    entries: (context, [name]) => listV1Entries(context, name),
    entry: (context, [name, id]) => getV1Entry(context, name, id),
    save: (context, [name]) => saveV1Entries(context, name),
    remove: (context, [name]) => removeV1Entries(context, name),
    listcollections: context => listV1Collections(context),
    collection: (context, [name]) => getV1CollectionDefinition(context, name),
  },
  cockpit: {
    authuser: context => authenticateV1User(context),
    saveuser: context => saveV1User(context),
    listusers: context => listV1Users(context),
    assets: context => listV1Assets(context),
    asset: (context, [id]) => getV1Asset(context, id),
    image: context => transformV1Image(context),
    addassets: context => addV1Assets(context),
    removeassets: context => removeV1Assets(context),
    updateassets: context => updateV1Assets(context),
  },
  singletons: {
    get: (context, [name, field]) => getV1SingletonValue(context, name, field),
    listsingletons: context => listV1Singletons(context),
    singleton: (context, [name]) => getV1SingletonDefinition(context, name),
  },
  forms: {
    submit: (context, [name]) => submitV1Form(context, name),
    export: (context, [name]) => exportV1Form(context, name),
  },
}

/** The h3 app answering like Cockpit 0.12: `/api/<resource>/<action>/…` with GET or POST. */
export function createV1App(store: DocumentStore, files: FileStore = createFileStore({ version: 1 })): App {
  const app = createApp()
  app.use(eventHandler(async (event) => {
    const request = readApiRequest(event)
    try {
      const isApi = request.path === '/api' || request.path.startsWith('/api/')
      if (!isApi && request.method === 'GET' && (await sendStorageFile(event, files, 1, request.path))) return
      await (isApi ? routeApi(request, store, files) : sendExact(event, 404, '', LIME_HTML))
    }
    catch {
      await sendSystemError(event)
    }
  }))
  return app
}

async function routeApi(request: ApiRequest, store: DocumentStore, files: FileStore): Promise<void> {
  const { event } = request
  setCockpitCorsHeaders(event, V1_CORS_ALLOW_HEADERS)
  if (request.method === 'OPTIONS') return sendExact(event, 200, '', JSON_TYPE)
  const caller = await getV1Caller(store, readV1Token(request), request.path)
  // forms let a token-less call through to check its `__csrf` (contract 5.2)
  if (!caller && isV1CsrfSubmit(request)) return submitV1Form({ request, store, caller: null }, getApiSegments(request.path)[2])
  if (!caller) return sendJson(event, 401, { error: 'Unauthorized' })
  const [resource = '', action = '', ...args] = getApiSegments(request.path)
  const actions = Object.hasOwn(RESOURCES, resource) ? RESOURCES[resource]! : undefined
  if (!actions) return sendExact(event, 404, '', LIME_HTML)
  const handler = Object.hasOwn(actions, action.toLowerCase()) ? actions[action.toLowerCase()] : undefined
  if (!handler) return sendExact(event, 404, '', JSON_TYPE)
  return handler({ request, store, caller, files }, args)
}

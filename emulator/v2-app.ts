import type { App } from 'h3'
import { createApp, eventHandler } from 'h3'
import { sendEmptyNotFound, sendExact, sendJson, sendSystemError, setCockpitCorsHeaders } from './http'
import type { ApiRequest } from './request'
import { getApiSegments, readApiRequest } from './request'
import type { DocumentStore } from './store'
import { getV2Caller, readV2Key } from './v2-auth'
import type { V2ContentContext } from './v2-content'
import { aggregateV2Items, deleteV2Item, getV2Item, getV2Tree, listV2Items, listV2ItemsOfModels, saveV2Item } from './v2-content'
import type { AdminSessions } from './v2-session'
import type { FileStore } from './files'
import { createFileStore } from './files'
import { getV2Model } from './models'
import { sendStorageFile } from './storage-files'
import { routeV2Assets } from './v2-assets'
import { getV2Singleton, listV2Singleton, refuseV2SingletonMethod, saveV2Singleton } from './v2-singletons'

/** Cockpit v2's `Access-Control-Allow-Headers`. */
export const V2_CORS_ALLOW_HEADERS = 'X-Requested-With, Content-Type, Origin, Cache-Control, Pragma, Authorization, Accept, Accept-Encoding, API-KEY'

/** What the v2 app works on. */
export interface V2AppDependencies {
  store: DocumentStore
  sessions: AdminSessions
  /** Uploads and thumbnails below `storage/`. @default an empty in-memory store */
  files?: FileStore
}

/** The h3 app answering like Cockpit 2.13: `/api/*`, `/auth/login`, `/auth/check`. */
export function createV2App(dependencies: V2AppDependencies): App {
  dependencies = { ...dependencies, files: dependencies.files ?? createFileStore({ version: 2 }) }
  const app = createApp()
  app.use(eventHandler(async (event) => {
    const request = readApiRequest(event)
    try {
      const isApi = request.path === '/api' || request.path.startsWith('/api/')
      await (isApi ? routeApi(request, dependencies) : routeAdmin(request, dependencies))
    }
    catch {
      // Cockpit runs with debug off: any exception (e.g. an unknown filter operator) becomes this
      await sendSystemError(event)
    }
  }))
  return app
}

async function routeApi(request: ApiRequest, { store, files }: V2AppDependencies): Promise<void> {
  const { event, method } = request
  setCockpitCorsHeaders(event, V2_CORS_ALLOW_HEADERS)
  if (method === 'OPTIONS') return sendExact(event, 200, '', 'application/json; charset=UTF-8', 'OK CORS')
  const segments = getApiSegments(request.path)
  if (method === 'GET' && segments.join('/') === 'system/healthcheck') return sendJson(event, 200, { status: 'ok' })

  const caller = await getV2Caller(store, readV2Key(request))
  if (!caller) return sendJson(event, 412, { error: 'Authentication failed' })

  const context: V2ContentContext = { request, store, caller }
  const [area, resource, model, id, ...rest] = segments
  if (area === 'assets') return routeV2Assets({ request, store, files: files! }, segments)
  if (area !== 'content' || rest.length > 0) return sendEmptyNotFound(event)
  const route = `${method} ${resource}${model === undefined ? '' : '/:model'}${id === undefined ? '' : '/:id'}`
  const singleton = model === undefined ? undefined : getV2Model(model)
  if (singleton?.type === 'singleton') {
    switch (route) {
      case 'GET items/:model': return listV2Singleton(context, singleton)
      case 'GET item/:model':
      case 'GET item/:model/:id': return getV2Singleton(context, singleton)
      case 'POST item/:model': return saveV2Singleton(context, singleton)
      case 'DELETE item/:model/:id': return refuseV2SingletonMethod(context, singleton, 'DELETE')
      case 'GET aggregate/:model': return refuseV2SingletonMethod(context, singleton, 'Aggregate')
    }
  }
  switch (route) {
    case 'GET items': return listV2ItemsOfModels(context)
    case 'GET items/:model': return listV2Items(context, model!)
    case 'GET item/:model': return getV2Item(context, model!)
    case 'POST item/:model': return saveV2Item(context, model!)
    case 'GET item/:model/:id': return getV2Item(context, model!, id!)
    case 'DELETE item/:model/:id': return deleteV2Item(context, model!, id!)
    case 'GET aggregate/:model': return aggregateV2Items(context, model!)
    case 'GET tree/:model': return getV2Tree(context, model!)
    default: return sendEmptyNotFound(event)
  }
}

async function routeAdmin(request: ApiRequest, { store, sessions, files }: V2AppDependencies): Promise<void> {
  if (request.method === 'GET' && (await sendStorageFile(request.event, files!, 2, request.path))) return
  const isReadOrPost = request.method === 'GET' || request.method === 'POST'
  if (isReadOrPost && request.path === '/auth/login') return sessions.login(request)
  if (isReadOrPost && request.path === '/auth/check') return sessions.check(request, store)
  if (request.method === 'GET' && request.path === '/') return sessions.home(request)
  return sendEmptyNotFound(request.event)
}

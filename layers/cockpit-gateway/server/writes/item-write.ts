import { setResponseHeader, setResponseStatus } from 'h3'
import type { H3Event } from 'h3'
import type { CockpitModel } from '../../shared/utils/cockpit-model'
import { createCockpitItem, deleteCockpitItem, updateCockpitItem } from '../content/cockpit-items'
import type { CockpitWriteAction } from '../content/cockpit-items'
import { requireGatewaySession } from '../session/gateway-session'
import { getCockpitItemEtag } from '../content/item-etag'
import { requireCockpitIfMatch } from '../content/if-match'
import { getWriteFingerprint, runIdempotentWrite } from './idempotency'
import type { WriteAnswer } from './idempotency'
import { readIdempotencyKey } from './idempotency-key'
import type { IdempotencyKey } from './idempotency-key'
import { withCockpitItemLock } from './item-lock'

/** One item write as the JSON routes and their form twins describe it. */
export interface CockpitItemWrite {
  action: CockpitWriteAction
  /** The item (update, delete). */
  id?: string
  /** The parsed body (create, update). */
  body?: unknown
  /** The `If-Match` precondition (update, delete). @default none */
  ifMatch?: string
  /** The validated `Idempotency-Key`. @default none: the write runs every time */
  idempotencyKey?: IdempotencyKey
}

async function itemAnswer(model: CockpitModel, status: number, item: Awaited<ReturnType<typeof createCockpitItem>>): Promise<WriteAnswer> {
  return { status, body: JSON.stringify(item), etag: await getCockpitItemEtag(model, item) }
}

function runWrite(event: H3Event, model: CockpitModel, write: CockpitItemWrite): Promise<WriteAnswer> {
  const { action, id, body, ifMatch } = write
  if (action === 'create') return createCockpitItem(event, model, body).then(item => itemAnswer(model, 201, item))
  // Every update and delete of an item is serialised, so a conditional one is never interleaved with another.
  return withCockpitItemLock(event, model.name, id!, async () => {
    if (ifMatch !== undefined) await requireCockpitIfMatch(event, model, action, id!, ifMatch)
    if (action === 'update') return itemAnswer(model, 200, await updateCockpitItem(event, model, id!, body))
    await deleteCockpitItem(event, model, id!)
    return { status: 204, body: null }
  })
}

/**
 * Runs one item write with its guarantees: at most once per `Idempotency-Key` and user (see
 * `runIdempotentWrite`), and for updates and deletes the `If-Match` precondition, checked under the item's
 * write lock. Resolves what the write answered (or the stored answer it replays) and whether it was replayed.
 * @param event the request
 * @param model the declared model
 * @param write what to write
 */
export async function runCockpitItemWrite(event: H3Event, model: CockpitModel, write: CockpitItemWrite): Promise<WriteAnswer & { replayed: boolean }> {
  if (write.idempotencyKey === undefined) return { ...await runWrite(event, model, write), replayed: false }
  const { user } = await requireGatewaySession(event)
  const fingerprint = await getWriteFingerprint(event.method, event.path, { body: write.body, ifMatch: write.ifMatch })
  return runIdempotentWrite(event, { userId: user.id, key: write.idempotencyKey, fingerprint, create: write.action === 'create' }, () => runWrite(event, model, write))
}

/**
 * `POST`/`PATCH`/`DELETE` on the JSON item routes: reads `Idempotency-Key` and `If-Match`, runs the write
 * (see {@link runCockpitItemWrite}) and sends its answer: the status, the item's `ETag`, and
 * `Idempotent-Replayed: true` when it is a stored answer sent again.
 * @param event the request
 * @param model the declared model
 * @param write the action, id and body
 */
export async function sendCockpitItemWrite(event: H3Event, model: CockpitModel, write: Pick<CockpitItemWrite, 'action' | 'id' | 'body'>): Promise<string | null> {
  const idempotencyKey = readIdempotencyKey(event)
  const ifMatch = write.action === 'create' ? undefined : event.headers.get('if-match') ?? undefined
  const answer = await runCockpitItemWrite(event, model, { ...write, ifMatch, idempotencyKey })
  setResponseStatus(event, answer.status)
  if (answer.etag) setResponseHeader(event, 'etag', answer.etag)
  if (answer.replayed) setResponseHeader(event, 'idempotent-replayed', 'true')
  if (answer.body === null) return null
  setResponseHeader(event, 'content-type', 'application/json')
  return answer.body
}

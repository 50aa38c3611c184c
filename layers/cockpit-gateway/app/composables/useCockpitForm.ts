import { computed, onMounted, ref } from 'vue'
import type { CockpitForm, CockpitFormData } from '../../shared/utils/cockpit-form'
import type { CockpitGatewayError } from './useCockpitMutation'
import { toGatewayError } from '../internal/gateway-error'

/** What `GET {prefix}/forms/:name/token` answers. */
interface FormTokenAnswer {
  token: string
  minSubmitTime: number
  expiresAt: number
}

/** Fetch a new token on mount when the page's one expires within this many ms. */
const TOKEN_REFRESH_MARGIN = 5 * 60 * 1000

/** Options of {@link useCockpitForm}. */
export interface UseCockpitFormOptions {
  /**
   * Fetch the submission token while rendering on the server and embed it in the page, so the form also works
   * without JavaScript. Only for pages rendered per request: a prerendered token expires. With `false` the
   * token is fetched in the browser on mount (prerendered pages). @default true
   */
  server?: boolean
}

/**
 * A public form of the gateway (`defineCockpitForm`): its submission token, the URLs and field names a plain
 * HTML form needs (`action`, `tokenField`, `honeypot`), and `submit` for JavaScript, with `pending`, `error`
 * (the gateway's stable `data.code`, e.g. `FORM_TOO_FAST` with `retryAfter`) and `sent`. A token that expired
 * or was refused is replaced by a fresh one, so the visitor can send again.
 * @param form the declared form
 * @param options where the token is fetched
 * @example
 * const { action, token, tokenField, honeypot, submit, pending, error, sent } = useCockpitForm(contact)
 * await submit({ name, email, message }, { [honeypot]: trap.value })
 */
export function useCockpitForm<F extends CockpitForm>(form: F, options: UseCockpitFormOptions = {}) {
  const { prefix } = useRuntimeConfig().public.cockpitGateway as { prefix: string }
  const action = `${prefix}/forms/${encodeURIComponent(form.name)}`
  // While rendering on the server, the request's own fetch: the token route then counts the visitor, not the server.
  const requestFetch = useRequestFetch()
  const tokenRequest = useAsyncData(`cockpit-form-token:${form.name}`, () => requestFetch<FormTokenAnswer>(`${action}/token`), { server: options.server ?? true })
  const pending = ref(false)
  const error = ref<CockpitGatewayError | null>(null)
  const sent = ref(false)

  onMounted(() => {
    // An embedded token may be old (a cached or prerendered page): replace it before the visitor types.
    const current = tokenRequest.data.value
    if (current && current.expiresAt - Date.now() < TOKEN_REFRESH_MARGIN) void tokenRequest.refresh()
  })

  /**
   * Sends the form as JSON; resolves `true` when the gateway accepted it (it says nothing more).
   * @param data the form's fields
   * @param extra the honeypot's and the captcha widget's fields, as rendered
   */
  async function submit(data: CockpitFormData<F>, extra: Record<string, string> = {}): Promise<boolean> {
    pending.value = true
    error.value = null
    try {
      if (!tokenRequest.data.value) await tokenRequest.refresh()
      await $fetch(action, { method: 'POST', body: { ...data, ...extra, _token: tokenRequest.data.value?.token } })
      sent.value = true
      return true
    }
    catch (caught) {
      error.value = toGatewayError(caught)
      if (['FORM_TOKEN_EXPIRED', 'FORM_TOKEN_INVALID'].includes(error.value.data.code)) void tokenRequest.refresh()
      return false
    }
    finally {
      pending.value = false
    }
  }

  return {
    /** The form's `action` (POST). */
    action,
    /** Name of the hidden field that carries the token. */
    tokenField: '_token' as const,
    /** The current token (`undefined` until fetched). */
    token: computed(() => tokenRequest.data.value?.token),
    /** Seconds the gateway wants between fetching the token and sending. */
    minSubmitTime: computed(() => tokenRequest.data.value?.minSubmitTime),
    /** Name of the honeypot field: render it hidden from people, and send it empty. */
    honeypot: form.honeypot,
    refreshToken: () => tokenRequest.refresh(),
    submit,
    pending,
    error,
    sent,
  }
}

import { computed } from 'vue'
import type { ComputedRef } from 'vue'
import type { User } from '#auth-utils'

/**
 * The logged-in user as the app sees it, with role helpers.
 * @public
 */
export interface CockpitUserState {
  /** The user, or `null` when logged out. */
  user: ComputedRef<User | null>
  loggedIn: ComputedRef<boolean>
  /** Token for the gateway's HTML form posts (hidden field `_csrf`); `null` when logged out. */
  formToken: ComputedRef<string | null>
  /** Whether the user has one of `roles`. */
  hasRole: (...roles: string[]) => boolean
  /** Logs in with username and password; rejects with the gateway's error (`data.code`). */
  login: (username: string, password: string) => Promise<User>
  /** Ends this session. */
  logout: () => Promise<void>
  /** Ends every session of this user, in every browser. */
  logoutEverywhere: () => Promise<void>
  /** Re-reads the session from the server. */
  refresh: () => Promise<void>
}

/**
 * The session user (wraps nuxt-auth-utils' `useUserSession()`), with roles and the gateway's login and
 * logout calls. Prerendered pages render logged out and pick the real state up after hydration.
 * @example const { user, hasRole, logout } = useCockpitUser()
 * @public
 */
export function useCockpitUser(): CockpitUserState {
  const session = useUserSession()
  const routes = useCockpitRoutes()
  const user = computed(() => (session.user.value as User | null) ?? null)
  return {
    user,
    loggedIn: computed(() => !!user.value),
    formToken: computed(() => (user.value && session.session.value?.formToken) || null),
    hasRole: (...roles) => !!user.value && roles.includes(user.value.role),
    async login(username, password) {
      const result = await $fetch<{ user: User }>(routes.auth('login'), { method: 'POST', body: { username, password } })
      await session.fetch()
      return result.user
    },
    async logout() {
      await $fetch(routes.auth('logout'), { method: 'POST', headers: { 'content-type': 'application/json' } })
      await session.fetch()
    },
    async logoutEverywhere() {
      await $fetch(routes.auth('logout-all'), { method: 'POST', headers: { 'content-type': 'application/json' } })
      await session.fetch()
    },
    refresh: () => session.fetch(),
  }
}

// Typed `User` and session for every app that extends the layer (nuxt-auth-utils' augmentation point).
declare module '#auth-utils' {
  interface User {
    /** Stable id from the identity provider (Cockpit user `_id`, local username, or OIDC `sub`). */
    id: string
    /** Display name. */
    name: string
    /** Gateway role, e.g. `admin`, `editor`, `guest` (mapped from the provider's role). */
    role: string
  }

  interface UserSession {
    /** Epoch ms of the login (absolute lifetime starts here). */
    loggedInAt?: number
    /** Epoch ms of the last request that refreshed the cookie (idle timeout slides from here). */
    lastSeenAt?: number
    /** Revocation version of the user at login; `logout-all` bumps the stored one. */
    version?: number
    /** Random id of this login, for single-session revocation. */
    sid?: string
    /** Token for the gateway's HTML form posts (`_csrf`); in `/api/_auth/session` only, never in the cookie. */
    formToken?: string | null
    /** The state store's epoch at login: a store that lost its data has a new one, and this session ends. */
    epoch?: string
  }
}

export {}

// What no Cockpit username can hold. Cockpit (v2 `System\Controller\Users::save`, v1
// `Cockpit\Controller\Accounts::save` and `RestApi::saveUser`) stores `strip_tags(trim($user))`: no surrounding
// whitespace, no NUL (strip_tags drops it), no `<` that opens a tag. Cockpit does not refuse other control or
// invisible characters, but an account spelt with them is indistinguishable on screen from another one, and
// v2's /auth/check cuts a login at its first NUL (contract 1.7), which would give every account endless
// spellings. The gateway refuses them all before any upstream call.

// C0, DEL and C1 controls; format characters (zero-width spaces and joiners, bidi marks and overrides,
// word joiner and invisible operators, BOM, soft hyphen …); line and paragraph separators.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u
// A surrogate half without its partner: not a character at all.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
// strip_tags keeps `<` only when whitespace follows it.
const TAG_OPENER = /<(?!\s)/

/**
 * Whether some Cockpit account could be spelt `username` (already trimmed by the login schema).
 * @param username the username a client sent
 */
export function isPossibleLoginUsername(username: string): boolean {
  return username.length > 0 && username.trim() === username && !FORBIDDEN.test(username) && !LONE_SURROGATE.test(username) && !TAG_OPENER.test(username)
}

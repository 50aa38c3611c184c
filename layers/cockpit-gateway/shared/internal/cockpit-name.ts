/**
 * What a Cockpit model, collection, singleton or form name may look like wherever it becomes part of a path
 * (a route param, a declaration, a webhook body, the client's request path): letters, digits, `_` and `-`.
 * Kept free of imports: the declarations that check it run in the browser bundle too.
 */
export const COCKPIT_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): what an app's own identity provider or
// OIDC handler needs to produce a gateway user.
export { getCanonicalUsername, mapGatewayRole, mapOidcClaimsToUser } from '../login/identity-providers'
export type { PasswordIdentityProvider, PasswordIdentityProviderDefinition } from '../login/identity-providers'

// Public API (auto-imported into every app that extends the layer): the synchronizer token of HTML form posts.
export { getGatewayFormToken, requireGatewayFormToken } from '../forms/gateway-form-token'

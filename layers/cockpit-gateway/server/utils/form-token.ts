// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): the synchronizer token of HTML form posts.
export { getGatewayFormToken, requireGatewayFormToken } from '../forms/gateway-form-token'

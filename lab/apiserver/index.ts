export { startApiServer, KUBERNETES_VERSION, type ApiServer, type ApiServerOptions, type Faults, type FailRule } from './server.js';
export { ApiCore } from './core.js';
export { applyObjects } from './apply.js';
export { serviceAccountUser, type UserInfo } from './rbac.js';

export { startApiServer, KUBERNETES_VERSION, type ApiServer, type ApiServerOptions, type Faults, type FailRule } from './server.js';
export { ApiCore, applyObjects } from './core.js';
export { serviceAccountUser, type UserInfo } from './rbac.js';

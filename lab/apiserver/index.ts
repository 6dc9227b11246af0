export { startApiServer, type ApiServer, type ApiServerOptions } from './server.js';
export { applyObjects } from './apply.js';

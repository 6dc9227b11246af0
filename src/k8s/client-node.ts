/**
 * The parts of @kubernetes/client-node that Herald uses, from one module.
 *
 * Importing the package loads every generated API class and model: 21 MB of JavaScript,
 * about 55 MB of resident memory in every process, most of a speaker's footprint. The build
 * (`npm run build`, scripts/build.mjs) therefore replaces this module's compiled form with an
 * esbuild bundle of just these exports and what they reach (tree-shaken: under 2 MB). In a
 * checkout, tsx loads the package as it is.
 */
export { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, RequestContext, Watch } from '@kubernetes/client-node';

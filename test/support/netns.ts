/** Tests use the lab's namespace helper. */
export { canUseNetns, Netns, run } from '../../lab/netns.js';

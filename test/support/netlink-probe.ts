/**
 * Watches the links of the namespace it runs in through Herald's netlink link table
 * (speaker/layer2/links.ts), for tests: prints one JSON line when the first dump is in
 * (every link), then one line per change.
 */
import { loadNative } from '../../native/index.js';
import { nullLogger } from '../../src/core/logger.js';
import { NetlinkLinks } from '../../speaker/layer2/links.js';

const links = new NetlinkLinks({ native: loadNative(), logger: nullLogger });
links.onChange((changes) => {
  for (const c of changes) {
    const i = links.interfaces().find((x) => x.name === c.name);
    process.stdout.write(`${JSON.stringify({ ...c, up: i?.up, mtu: i?.mtu, addrs: i?.addrs.length })}\n`);
  }
});
await links.start();
process.stdout.write(
  `${JSON.stringify({ ready: true, links: links.interfaces().map((i) => ({ name: i.name, index: i.index, up: i.up, mtu: i.mtu })) })}\n`,
);

/**
 * The architecture's boundaries are enforced by ESLint (eslint.config.js), not hoped for:
 * pure code refuses I/O modules, the Kubernetes client, the clock and the environment,
 * and only src/k8s imports @kubernetes/client-node. Linted as text under the paths they would have.
 */
import { expect } from 'chai';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../../support/crds.js';

const eslint = new ESLint({ cwd: REPO_ROOT });

async function rulesHit(path: string, text: string): Promise<string[]> {
  const [r] = await eslint.lintText(text, { filePath: `${REPO_ROOT}/${path}` });
  return (r?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('lint: architecture boundaries', function () {
  this.timeout(60_000);

  const pure = [
    'src/net/probe.ts',
    'src/config/probe.ts',
    'controller/allocator/probe.ts',
    'speaker/bgp/fsm.ts',
    'speaker/layer2/arp.ts',
    'speaker/bfd/packet.ts',
  ];
  for (const path of pure) {
    it(`${path} (pure) may not import I/O modules, read the clock or the environment`, async () => {
      expect(
        await rulesHit(path, "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n"),
      ).to.include('no-restricted-imports');
      expect(
        await rulesHit(path, "import { createSocket } from 'dgram';\nexport const f = createSocket;\n"),
      ).to.include('no-restricted-imports');
      expect(
        await rulesHit(path, "import { KubeClient } from '../../src/k8s/client.js';\nexport const f = KubeClient;\n"),
      ).to.include('no-restricted-imports');
      expect(await rulesHit(path, 'export const t = Date.now();\n')).to.include('no-restricted-properties');
      expect(await rulesHit(path, "export const e = process.env['X'];\n")).to.include('no-restricted-properties');
      expect(await rulesHit(path, 'export const r = Math.random();\n')).to.include('no-restricted-properties');
      // Pure computation is fine, node:crypto's hashes included.
      expect(
        await rulesHit(path, "import { createHash } from 'node:crypto';\nexport const h = createHash;\n"),
      ).to.deep.equal([]);
    });
  }

  it('code outside the pure set may do I/O, but only src/k8s imports the Kubernetes client', async () => {
    expect(
      await rulesHit(
        'speaker/layer2/engine.ts',
        "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
      ),
    ).to.deep.equal([]);
    expect(
      await rulesHit(
        'speaker/speaker.ts',
        "import { KubeConfig } from '@kubernetes/client-node';\nexport const k = KubeConfig;\n",
      ),
    ).to.include('no-restricted-imports');
    expect(
      await rulesHit(
        'src/k8s/probe.ts',
        "import { KubeConfig } from '@kubernetes/client-node';\nexport const k = KubeConfig;\n",
      ),
    ).to.deep.equal([]);
  });
});

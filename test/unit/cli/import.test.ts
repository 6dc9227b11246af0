import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture } from '../../support/capture.js';
import { parseAllDocuments, stringify } from 'yaml';
import { runImport } from '../../../src/cli/import.js';

describe('herald import (command)', () => {
  it('names every unsupported field on stderr with its file and exits 1', async () => {
    const c = capture();
    expect(
      await runImport({ paths: ['test/fixtures/metallb/unsupported'], namespace: 'herald-system' }, c.io),
    ).to.equal(1);
    const lines = c.err().trim().split('\n');
    const file = 'test/fixtures/metallb/unsupported/metallb.yaml: ';
    for (const want of [
      'BGPPeer metallb-system/in-vrf: spec.vrf: unsupported: "red"',
      'BGPPeer metallb-system/unnumbered: spec.interface: unsupported: "eth1"',
      'BGPPeer metallb-system/local-as: spec.localASN: unsupported: 64510',
      'BFDProfile metallb-system/echo: spec.echoMode: unsupported: true',
      'IPAddressPool metallb-system/future: spec.someNewField: unsupported:',
    ])
      expect(
        lines.some((l) => l.startsWith(file + want)),
        `${want} in\n${c.err()}`,
      ).to.equal(true);
    expect(lines.at(-1)).to.equal(
      'herald import: wrote 2 Herald object(s) for namespace herald-system; 5 unsupported field(s) or object(s)',
    );
    const docs = parseAllDocuments(c.out()).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> },
    );
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`)).to.deep.equal([
      'BFDProfile herald-system/echo',
      'IPAddressPool herald-system/future',
    ]);
    expect(docs[0]!.spec).to.deep.equal({ receiveInterval: 300, echoInterval: 50 });
  });

  it('writes one file per object into -o DIR, in the namespace asked for, and exits 0 when all was carried', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-import-unit-'));
    try {
      const c = capture();
      expect(
        await runImport({ paths: ['test/fixtures/metallb/l2-basic'], outDir: dir, namespace: 'lb' }, c.io),
      ).to.equal(0);
      expect(c.out()).to.equal('');
      expect((await readdir(dir)).sort()).to.deep.equal([
        'ipaddresspool-first-pool.yaml',
        'l2advertisement-example.yaml',
      ]);
      expect(await readFile(join(dir, 'ipaddresspool-first-pool.yaml'), 'utf8')).to.equal(
        'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: first-pool\n  namespace: lb\nspec:\n  addresses:\n    - 192.0.2.10-192.0.2.20\n',
      );
      expect(c.err()).to.match(
        /wrote 2 Herald object\(s\) into .* for namespace lb; 0 unsupported field\(s\) or object\(s\); 4 other object\(s\) left alone\n$/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads `kubectl get -o yaml` output (a List, with server fields and status, all left behind)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-import-list-'));
    try {
      const list = {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'IPAddressPool',
            metadata: {
              name: 'p',
              namespace: 'metallb-system',
              uid: 'u-1',
              resourceVersion: '42',
              generation: 1,
              creationTimestamp: '2025-01-01T00:00:00Z',
              managedFields: [{ manager: 'kubectl' }],
              annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'net' },
            },
            spec: { addresses: ['192.0.2.0/28'], autoAssign: true, avoidBuggyIPs: false },
            status: { assignedIPv4: 1 },
          },
        ],
      };
      await writeFile(join(dir, 'export.yaml'), stringify(list));
      const c = capture();
      expect(await runImport({ paths: [dir], namespace: 'herald-system' }, c.io)).to.equal(0, c.err());
      expect(parseAllDocuments(c.out()).map((d) => d.toJS() as unknown)).to.deep.equal([
        {
          apiVersion: 'herald.dev/v1beta1',
          kind: 'IPAddressPool',
          metadata: { name: 'p', namespace: 'herald-system', annotations: { team: 'net' } },
          spec: { addresses: ['192.0.2.0/28'], autoAssign: true, avoidBuggyIPs: false },
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a path that cannot be read is an error', async () => {
    const c = capture();
    expect(await runImport({ paths: ['test/fixtures/metallb/nope'], namespace: 'herald-system' }, c.io)).to.equal(1);
    expect(c.err()).to.match(/^test\/fixtures\/metallb\/nope: cannot read: /);
  });
});

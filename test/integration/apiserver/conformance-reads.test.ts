/**
 * Reading through the embedded API server with @kubernetes/client-node over HTTPS: lists
 * with label and field selectors, limit/continue paging, and watches (client-node's Watch
 * and Herald's KubeClient), including 410 Gone after a compaction.
 */
import { Watch } from '@kubernetes/client-node';
import { expect } from 'chai';
import { apiError, eventually, type TestCluster, withHeraldCluster } from '../../support/apiserver.js';
import { NAMESPACES, CONFIGMAPS, type KubeObject } from '../../../src/k8s/index.js';

describe('embedded API server: conformance through client-node', function () {
  let c: TestCluster;
  withHeraldCluster(this, (started) => (c = started));

  describe('selectors and paging', () => {
    before(async () => {
      await c.client.create(NAMESPACES, { metadata: { name: 'sel' } });
      for (let i = 0; i < 7; i++) {
        await c.client.create(CONFIGMAPS, {
          metadata: {
            name: `cm-${i}`,
            namespace: 'sel',
            labels: { tier: i % 2 === 0 ? 'even' : 'odd', idx: String(i) },
          },
        });
      }
    });

    const names = (items: KubeObject[]): string[] => items.map((o) => o.metadata.name);
    const cases: { name: string; label?: string; field?: string; want: string[] }[] = [
      { name: 'equality', label: 'tier=odd', want: ['cm-1', 'cm-3', 'cm-5'] },
      { name: 'inequality', label: 'tier!=odd', want: ['cm-0', 'cm-2', 'cm-4', 'cm-6'] },
      { name: 'set in', label: 'idx in (1,2)', want: ['cm-1', 'cm-2'] },
      { name: 'set notin and exists', label: 'idx notin (0,1,2,3),tier', want: ['cm-4', 'cm-5', 'cm-6'] },
      { name: 'does not exist', label: '!tier', want: [] },
      { name: 'field metadata.name', field: 'metadata.name=cm-3', want: ['cm-3'] },
      { name: 'field and label', field: 'metadata.name!=cm-0', label: 'tier=even', want: ['cm-2', 'cm-4', 'cm-6'] },
    ];
    for (const tc of cases) {
      it(`selects: ${tc.name}`, async () => {
        const out = await c.client.list(CONFIGMAPS, {
          namespace: 'sel',
          ...(tc.label ? { labelSelector: tc.label } : {}),
          ...(tc.field ? { fieldSelector: tc.field } : {}),
        });
        expect(names(out.items)).to.deep.equal(tc.want);
      });
    }

    it('refuses an unsupported field selector with 400', async () => {
      const e = await apiError(c.client.list(CONFIGMAPS, { namespace: 'sel', fieldSelector: 'spec.nope=1' }));
      expect(e.statusCode).to.equal(400);
    });

    it('limit/continue pages through a consistent snapshot', async () => {
      const first = await c.client.list(CONFIGMAPS, { namespace: 'sel', limit: 3 });
      expect(names(first.items)).to.deep.equal(['cm-0', 'cm-1', 'cm-2']);
      await c.client.create(CONFIGMAPS, { metadata: { name: 'cm-00', namespace: 'sel' } });
      const second = await c.client.list(CONFIGMAPS, { namespace: 'sel', limit: 3, continue: first.continue! });
      expect(names(second.items)).to.deep.equal(['cm-3', 'cm-4', 'cm-5']);
      expect(second.resourceVersion).to.equal(first.resourceVersion);
      const third = await c.client.list(CONFIGMAPS, { namespace: 'sel', limit: 3, continue: second.continue! });
      expect(names(third.items)).to.deep.equal(['cm-6']);
      expect(third.continue).to.equal(undefined);
      const all = await c.client.listAll(CONFIGMAPS, { namespace: 'sel', limit: 2 });
      expect(all.items).to.have.length(8);
    });

    it('a continue token from before a compaction gets 410 Expired', async () => {
      const first = await c.client.list(CONFIGMAPS, { namespace: 'sel', limit: 2 });
      c.server.faults.compact();
      const e = await apiError(c.client.list(CONFIGMAPS, { namespace: 'sel', limit: 2, continue: first.continue! }));
      expect([e.statusCode, e.reason]).to.deep.equal([410, 'Expired']);
    });
  });

  describe('watch', () => {
    it('streams ADDED, MODIFIED, DELETED from a resourceVersion, and BOOKMARKs when asked', async () => {
      await c.client.create(NAMESPACES, { metadata: { name: 'watch' } });
      const start = await c.client.list(CONFIGMAPS, { namespace: 'watch' });
      const seen: string[] = [];
      let bookmarks = 0;
      const w = new Watch(c.kc);
      const ctl = await w.watch(
        '/api/v1/namespaces/watch/configmaps',
        { resourceVersion: start.resourceVersion, allowWatchBookmarks: true },
        (type: string, obj: KubeObject) => {
          if (type === 'BOOKMARK') bookmarks++;
          else seen.push(`${type} ${obj.metadata.name}`);
        },
        () => undefined,
      );
      try {
        await c.client.create(CONFIGMAPS, { metadata: { name: 'w1', namespace: 'watch' } });
        await c.client.patch(CONFIGMAPS, 'watch', 'w1', { data: { a: '1' } });
        await c.client.delete(CONFIGMAPS, 'watch', 'w1');
        await eventually(() => seen.length === 3 && bookmarks > 0, 'three events and a bookmark');
        expect(seen).to.deep.equal(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
      } finally {
        ctl.abort();
      }
    });

    it('replays changes made after the given resourceVersion, before the watch started', async () => {
      const start = await c.client.list(CONFIGMAPS, { namespace: 'watch' });
      await c.client.create(CONFIGMAPS, { metadata: { name: 'early', namespace: 'watch' } });
      const seen: string[] = [];
      const s = await c.client.watch(
        CONFIGMAPS,
        { namespace: 'watch', resourceVersion: start.resourceVersion },
        (t, o) => seen.push(`${t} ${o.metadata.name}`),
        () => undefined,
      );
      try {
        await eventually(() => seen.length === 1, 'replayed event');
        expect(seen).to.deep.equal(['ADDED early']);
      } finally {
        s.stop();
      }
    });

    it('a label-selected watch sees an object leave the selection as DELETED', async () => {
      await c.client.create(CONFIGMAPS, { metadata: { name: 'lbl', namespace: 'watch', labels: { keep: 'yes' } } });
      const seen: string[] = [];
      const s = await c.client.watch(
        CONFIGMAPS,
        { namespace: 'watch', labelSelector: 'keep=yes', resourceVersion: '0' },
        (t, o) => seen.push(`${t} ${o.metadata.name}`),
        () => undefined,
      );
      try {
        await eventually(() => seen.length === 1, 'initial ADDED');
        await c.client.patch(CONFIGMAPS, 'watch', 'lbl', { metadata: { labels: { keep: 'no' } } });
        await eventually(() => seen.length === 2, 'DELETED on leaving the selection');
        expect(seen).to.deep.equal(['ADDED lbl', 'DELETED lbl']);
      } finally {
        s.stop();
      }
    });

    it('a resourceVersion older than the retained history gets 410 Gone', async () => {
      const old = await c.client.list(CONFIGMAPS, { namespace: 'watch' });
      await c.client.create(CONFIGMAPS, { metadata: { name: 'after', namespace: 'watch' } });
      c.server.faults.compact();
      const events: { type: string; code?: number }[] = [];
      let ended = false;
      await c.client.watch(
        CONFIGMAPS,
        { namespace: 'watch', resourceVersion: old.resourceVersion },
        (t, o) => events.push({ type: t, code: (o as unknown as { code?: number }).code! }),
        () => {
          ended = true;
        },
      );
      await eventually(() => ended, 'watch to end');
      expect(events).to.deep.equal([{ type: 'ERROR', code: 410 }]);
    });
  });
});

/** Speaker pod readiness as a membership input: which nodes are no candidates. */
import { expect } from 'chai';
import { notReadyNodes } from '../../../../speaker/membership/pod-readiness.js';
import type { KubeObject } from '../../../../src/k8s/index.js';

const pod = (
  name: string,
  node: string | undefined,
  readyStatus: string | undefined,
  deleting = false,
): KubeObject => ({
  metadata: { name, namespace: 'herald-system', ...(deleting ? { deletionTimestamp: '2026-11-25T00:00:00Z' } : {}) },
  ...(node ? { spec: { nodeName: node } } : { spec: {} }),
  status: readyStatus ? { conditions: [{ type: 'Ready', status: readyStatus }] } : {},
});

describe('speaker pod readiness (membership input)', () => {
  const cases: { name: string; pods: KubeObject[]; want: string[] }[] = [
    { name: 'no pods (the lab): nobody excluded', pods: [], want: [] },
    { name: 'a Ready pod keeps its node a candidate', pods: [pod('a', 'node-a', 'True')], want: [] },
    {
      name: 'a pod failing its readiness probe excludes its node',
      pods: [pod('a', 'node-a', 'False'), pod('b', 'node-b', 'True')],
      want: ['node-a'],
    },
    {
      name: 'a pod without conditions yet (starting) excludes its node',
      pods: [pod('a', 'node-a', undefined)],
      want: ['node-a'],
    },
    { name: 'a Ready pod being deleted excludes its node', pods: [pod('a', 'node-a', 'True', true)], want: ['node-a'] },
    {
      name: 'during a rollout one Ready pod of two is enough',
      pods: [pod('old', 'node-a', 'True'), pod('new', 'node-a', 'False')],
      want: [],
    },
    { name: 'an unscheduled pod says nothing', pods: [pod('p', undefined, 'False')], want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect([...notReadyNodes(c.pods)].sort()).to.deep.equal(c.want);
    });
  }
});

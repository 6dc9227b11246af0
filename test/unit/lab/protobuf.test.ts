/**
 * Kubernetes protobuf request bodies, built here byte by byte (tag, length, value) from the
 * field numbers of k8s.io/api, independently of the decoder's schema.
 */
import { expect } from 'chai';
import { decodeProtobuf, ProtobufError } from '../../../lab/apiserver/protobuf/decode.js';

const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
/** Length-delimited field (wire type 2). */
const ld = (field: number, bytes: Buffer | string): Buffer => {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(b.length)]), b]);
};
/** Varint field (wire type 0). */
const vi = (field: number, n: number): Buffer => Buffer.from([...varint(field << 3), ...varint(n)]);
const msg = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([Buffer.from('k8s\0', 'binary'), ld(1, msg(ld(1, apiVersion), ld(2, kind))), ld(2, raw)]);
/** ObjectMeta with name (1), namespace (3), the zero creationTimestamp gogo writes (8) and labels (11). */
const meta = (name: string, labels: Record<string, string> = {}): Buffer =>
  msg(
    ld(1, name),
    ld(2, ''),
    ld(3, ''),
    ld(8, msg()),
    ...Object.entries(labels).map(([k, v]) => ld(11, msg(ld(1, k), ld(2, v)))),
  );

describe('lab apiserver: protobuf request bodies', () => {
  it('a Namespace as kubectl create namespace sends it (empty spec and status, zero timestamp)', () => {
    expect(
      decodeProtobuf(envelope('v1', 'Namespace', msg(ld(1, meta('x')), ld(2, msg()), ld(3, msg())))),
    ).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'x' },
      spec: {},
      status: {},
    });
  });

  it('a LoadBalancer Service: ports with an integer targetPort, a selector map, zero nodePort omitted', () => {
    const port = msg(ld(1, '80-8080'), ld(2, 'TCP'), vi(3, 80), ld(4, msg(vi(1, 0), vi(2, 8080), ld(3, ''))), vi(5, 0));
    const named = msg(ld(1, 'http'), vi(3, 443), ld(4, msg(vi(1, 1), vi(2, 0), ld(3, 'https'))));
    const spec = msg(
      ld(1, port),
      ld(1, named),
      ld(2, msg(ld(1, 'app'), ld(2, 'web'))),
      ld(4, 'LoadBalancer'),
      vi(20, 0),
    );
    const svc = decodeProtobuf(
      envelope('v1', 'Service', msg(ld(1, meta('web', { app: 'web' })), ld(2, spec), ld(3, msg(ld(1, msg()))))),
    );
    expect(svc).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        ports: [
          { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
          { name: 'http', port: 443, targetPort: 'https' },
        ],
        selector: { app: 'web' },
        type: 'LoadBalancer',
        // A pointer in Go: false was set on purpose and is kept.
        allocateLoadBalancerNodePorts: false,
      },
      status: { loadBalancer: {} },
    });
  });

  it('a Deployment: replicas 0 kept (pointer), pod template with a container, resources as Quantity strings, inline volume source', () => {
    const container = msg(
      ld(1, 'web'),
      ld(2, 'nginx'),
      ld(8, msg(ld(1, msg(ld(1, 'cpu'), ld(2, msg(ld(1, '100m'))))))),
      vi(16, 0),
    );
    const volume = msg(ld(1, 'data'), ld(2, msg(ld(2, msg(ld(1, 'Memory'))))));
    const podSpec = msg(ld(1, volume), ld(2, container), ld(3, 'Always'));
    const template = msg(ld(1, meta('', { app: 'web' })), ld(2, podSpec));
    const spec = msg(vi(1, 0), ld(2, msg(ld(1, msg(ld(1, 'app'), ld(2, 'web'))))), ld(3, template), ld(4, msg()));
    const d = decodeProtobuf(
      envelope('apps/v1', 'Deployment', msg(ld(1, meta('web')), ld(2, spec), ld(3, msg(vi(2, 0))))),
    );
    expect(d).to.deep.equal({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }],
            containers: [{ name: 'web', image: 'nginx', resources: { limits: { cpu: '100m' } } }],
            restartPolicy: 'Always',
          },
        },
        strategy: {},
      },
      status: {},
    });
  });

  it('Secret data (bytes) becomes base64, and a Time becomes RFC 3339', () => {
    const withTime = msg(ld(1, 's'), ld(8, msg(vi(1, 1_700_000_000))));
    const s = decodeProtobuf(
      envelope(
        'v1',
        'Secret',
        msg(ld(1, withTime), ld(2, msg(ld(1, 'k'), ld(2, Buffer.from([0, 1, 255])))), ld(3, 'Opaque')),
      ),
    );
    expect(s).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', creationTimestamp: '2023-11-14T22:13:20Z' },
      data: { k: 'AAH/' },
      type: 'Opaque',
    });
  });

  it('EndpointSlice conditions keep ready: false', () => {
    const ep = msg(ld(1, '192.0.2.1'), ld(2, msg(vi(1, 0))), ld(6, 'node-a'));
    const s = decodeProtobuf(
      envelope(
        'discovery.k8s.io/v1',
        'EndpointSlice',
        msg(ld(1, meta('s')), ld(2, ep), ld(3, msg(ld(1, 'http'), vi(3, 80))), ld(4, 'IPv4')),
      ),
    );
    expect(s).to.deep.include({
      addressType: 'IPv4',
      endpoints: [{ addresses: ['192.0.2.1'], conditions: { ready: false }, nodeName: 'node-a' }],
      ports: [{ name: 'http', port: 80 }],
    });
  });

  it('a SelfSubjectAccessReview as kubectl auth can-i sends it', () => {
    // spec (2): nonResourceAttributes (2) { path 1, verb 2 }; status (3) empty.
    const r = decodeProtobuf(
      envelope(
        'authorization.k8s.io/v1',
        'SelfSubjectAccessReview',
        msg(ld(1, meta('')), ld(2, msg(ld(2, msg(ld(1, '/metrics'), ld(2, 'get'))))), ld(3, msg())),
      ),
    );
    expect(r).to.deep.include({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { nonResourceAttributes: { path: '/metrics', verb: 'get' } },
    });
  });

  it('a SubjectAccessReview: resource attributes, user, groups, and extra values as string lists', () => {
    // spec: resourceAttributes (1) { namespace 1, verb 2, resource 5 }, user 3, groups 4, extra 5 (map entry: key 1, ExtraValue 2 { items 1 }).
    const extra = ld(5, msg(ld(1, 'scopes'), ld(2, msg(ld(1, 'a'), ld(1, 'b')))));
    const spec = msg(
      ld(1, msg(ld(1, 'default'), ld(2, 'list'), ld(5, 'pods'))),
      ld(3, 'jane'),
      ld(4, 'dev'),
      ld(4, 'ops'),
      extra,
    );
    const r = decodeProtobuf(
      envelope('authorization.k8s.io/v1', 'SubjectAccessReview', msg(ld(1, meta('')), ld(2, spec))),
    );
    expect((r as { spec: unknown }).spec).to.deep.equal({
      resourceAttributes: { namespace: 'default', verb: 'list', resource: 'pods' },
      user: 'jane',
      groups: ['dev', 'ops'],
      extra: { scopes: ['a', 'b'] },
    });
  });

  const refusals: { name: string; body: Buffer; message: RegExp }[] = [
    { name: 'no magic', body: Buffer.from('{"kind":"Namespace"}'), message: /magic/ },
    { name: 'a kind outside the subset', body: envelope('batch/v1', 'Job', msg()), message: /not for batch\/v1\/Job/ },
    {
      name: 'a field outside the subset (PodSpec.affinity = 18)',
      body: envelope('v1', 'Pod', msg(ld(1, meta('p')), ld(2, msg(ld(18, msg()))))),
      message: /Pod\.spec: field 18 of k8s\.io\.api\.core\.v1\.PodSpec/,
    },
  ];
  for (const tc of refusals) {
    it(`refuses ${tc.name} with a message that says why`, () => {
      expect(() => decodeProtobuf(tc.body)).to.throw(ProtobufError, tc.message);
    });
  }
});

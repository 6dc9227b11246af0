/**
 * charts/herald: `helm lint --strict` and `helm template` over a table of values, each
 * checked for its effect on the rendered objects; bad values fail with a message naming the
 * value. (helm-drift.test.ts compares the defaults with manifests/; helm-install.test.ts
 * applies the rendered objects and runs Herald under their RBAC.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import {
  CHART_DIR,
  helmBinary,
  helmTemplate,
  helmWithValues,
  type K8sObject,
  parseObjects,
  run,
} from '../../support/helm.js';
import { KINDS } from '../../../src/api/group.js';

interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  args: string[];
  ports: { name: string; containerPort: number; protocol?: string }[];
  resources?: object;
}
interface PodSpec {
  containers: Container[];
  nodeSelector?: Record<string, string>;
  tolerations?: object[];
  affinity?: object;
  priorityClassName?: string;
  runtimeClassName?: string;
  imagePullSecrets?: { name: string }[];
}
interface Workload extends K8sObject {
  spec: {
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    strategy?: object;
  };
}

const find = (objs: K8sObject[], kind: string, name?: string): K8sObject[] =>
  objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objs: K8sObject[], kind: string, name?: string): K8sObject => {
  const found = find(objs, kind, name);
  expect(
    found.map((o) => o.metadata.name),
    `${kind} ${name ?? ''}`,
  ).to.have.length(1);
  return found[0]!;
};
const controller = (objs: K8sObject[]): Workload => one(objs, 'Deployment', 'herald-controller') as Workload;
const speaker = (objs: K8sObject[]): Workload => one(objs, 'DaemonSet', 'herald-speaker') as Workload;
const pod = (w: Workload): PodSpec => w.spec.template.spec;
const ctr = (w: Workload): Container => pod(w).containers[0]!;
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const CONTROL_PLANE_TOLERATIONS = [
  { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
];
const OPTIONAL_KINDS = ['Namespace', 'ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'NetworkPolicy'];

interface Case {
  readonly name: string;
  readonly values: object;
  readonly namespace?: string;
  readonly check: (objs: K8sObject[]) => void;
}

const cases: Case[] = [
  {
    name: 'defaults: one image tag (the appVersion), no pull policy, no optional objects, a CRD per kind',
    values: {},
    check: (objs) => {
      for (const w of [controller(objs), speaker(objs)]) {
        expect(ctr(w).image).to.equal('ghcr.io/herald-lb/herald:v0.1.0');
        expect(ctr(w)).to.not.have.property('imagePullPolicy');
      }
      expect(objs.filter((o) => OPTIONAL_KINDS.includes(o.kind)).map((o) => o.kind)).to.deep.equal([]);
      expect(find(objs, 'CustomResourceDefinition')).to.have.length(KINDS.length);
      expect(ctr(speaker(objs)).args).to.deep.equal([
        'speaker',
        '--log-level=info',
        '--health-port=7475',
        '--l2-announce-rate=2000',
      ]);
      // Secured metrics: the review grants on both ClusterRoles, and the scrapers' ClusterRole.
      for (const name of ['herald-controller', 'herald-speaker']) {
        const rules = (
          one(objs, 'ClusterRole', name) as K8sObject & {
            rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
          }
        ).rules;
        expect(rules, name).to.deep.include({
          apiGroups: ['authentication.k8s.io'],
          resources: ['tokenreviews'],
          verbs: ['create'],
        });
        expect(rules, name).to.deep.include({
          apiGroups: ['authorization.k8s.io'],
          resources: ['subjectaccessreviews'],
          verbs: ['create'],
        });
      }
      expect(
        (one(objs, 'ClusterRole', 'herald-metrics-reader') as K8sObject & { rules: object[] }).rules,
      ).to.deep.equal([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    },
  },
  {
    name: 'health ports per component: flag, container port, probes; speaker.excludeInterfaces in its env',
    values: { controller: { healthPort: 9474 }, speaker: { healthPort: 9475, excludeInterfaces: 'default,eth9*' } },
    check: (objs) => {
      for (const [w, port] of [
        [controller(objs), 9474],
        [speaker(objs), 9475],
      ] as const) {
        const c = ctr(w) as Container & {
          livenessProbe: { httpGet: { port: string } };
          readinessProbe: { httpGet: { port: string } };
        };
        expect(c.args, w.metadata.name).to.include(`--health-port=${port}`);
        expect(c.ports).to.deep.include({ name: 'health', containerPort: port });
        expect([c.livenessProbe.httpGet.port, c.readinessProbe.httpGet.port]).to.deep.equal(['health', 'health']);
      }
      const env = (ctr(speaker(objs)) as Container & { env: { name: string; value?: string }[] }).env;
      expect(env).to.deep.include({ name: 'HERALD_L2_EXCLUDE_INTERFACES', value: 'default,eth9*' });
    },
  },
  {
    name: 'metrics.secure=false: --metrics-secure=false, no review grants, no herald-metrics-reader, plain HTTP monitors',
    values: { metrics: { secure: false }, prometheus: { serviceMonitor: { enabled: true } } },
    check: (objs) => {
      expect(ctr(controller(objs)).args).to.deep.equal([
        'controller',
        '--leader-elect',
        '--log-level=info',
        '--health-port=7474',
        '--metrics-secure=false',
      ]);
      expect(ctr(speaker(objs)).args).to.deep.equal([
        'speaker',
        '--log-level=info',
        '--health-port=7475',
        '--l2-announce-rate=2000',
        '--metrics-secure=false',
      ]);
      for (const name of ['herald-controller', 'herald-speaker']) {
        const groups = (
          one(objs, 'ClusterRole', name) as K8sObject & { rules: { apiGroups: string[] }[] }
        ).rules.flatMap((r) => r.apiGroups);
        expect(groups, name).to.not.include.members(['authentication.k8s.io', 'authorization.k8s.io']);
      }
      expect(find(objs, 'ClusterRole', 'herald-metrics-reader')).to.have.length(0);
      for (const sm of find(objs, 'ServiceMonitor')) {
        const ep = (sm as K8sObject & { spec: { endpoints: Record<string, unknown>[] } }).spec.endpoints[0]!;
        expect(ep, sm.metadata.name).to.not.have.any.keys('scheme', 'bearerTokenFile', 'tlsConfig');
      }
    },
  },
  {
    name: 'image repository, tag and pullPolicy per component',
    values: {
      controller: { image: { repository: 'registry.example/herald-c', tag: 'v9', pullPolicy: 'Always' } },
      speaker: { image: { repository: 'registry.example/herald-s', pullPolicy: 'IfNotPresent' } },
    },
    check: (objs) => {
      expect(ctr(controller(objs))).to.include({ image: 'registry.example/herald-c:v9', imagePullPolicy: 'Always' });
      expect(ctr(speaker(objs))).to.include({
        image: 'registry.example/herald-s:v0.1.0',
        imagePullPolicy: 'IfNotPresent',
      });
    },
  },
  {
    name: 'log level per component and loadBalancerClass on both',
    values: {
      loadBalancerClass: 'example.com/herald',
      controller: { logLevel: 'debug' },
      speaker: { logLevel: 'warn' },
    },
    check: (objs) => {
      expect(ctr(controller(objs)).args).to.deep.equal([
        'controller',
        '--leader-elect',
        '--log-level=debug',
        '--health-port=7474',
        '--lb-class=example.com/herald',
      ]);
      expect(ctr(speaker(objs)).args).to.deep.equal([
        'speaker',
        '--log-level=warn',
        '--health-port=7475',
        '--l2-announce-rate=2000',
        '--lb-class=example.com/herald',
      ]);
    },
  },
  {
    name: 'scheduling and resources per component; tolerateMaster off leaves only the given tolerations',
    values: {
      controller: {
        replicas: 3,
        nodeSelector: { 'example.com/infra': 'true' },
        tolerations: [{ key: 'infra', operator: 'Exists' }],
        affinity: {
          podAntiAffinity: null,
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
            },
          },
        },
        priorityClassName: 'system-cluster-critical',
        resources: { requests: { cpu: '10m' } },
        strategy: { type: 'Recreate' },
      },
      speaker: {
        tolerateMaster: false,
        tolerations: [{ key: 'edge', operator: 'Exists', effect: 'NoExecute' }],
        nodeSelector: { 'example.com/edge': 'true' },
        priorityClassName: 'system-node-critical',
        runtimeClassName: 'runc',
        resources: { limits: { memory: '1Gi' } },
        updateStrategy: { type: 'OnDelete' },
      },
    },
    check: (objs) => {
      const c = controller(objs);
      expect((c.spec as { replicas?: number }).replicas).to.equal(3);
      expect(c.spec.strategy).to.deep.equal({ type: 'Recreate' });
      expect(pod(c).nodeSelector).to.deep.equal({ 'example.com/infra': 'true' });
      expect(pod(c).tolerations).to.deep.equal([{ key: 'infra', operator: 'Exists' }]);
      expect(pod(c).affinity).to.have.all.keys('nodeAffinity');
      expect(pod(c).priorityClassName).to.equal('system-cluster-critical');
      // Helm merges maps: the default memory request stays.
      expect(ctr(c).resources).to.deep.equal({ requests: { cpu: '10m', memory: '96Mi' }, limits: { memory: '512Mi' } });
      const s = speaker(objs);
      expect(pod(s).tolerations).to.deep.equal([{ key: 'edge', operator: 'Exists', effect: 'NoExecute' }]);
      expect(pod(s).nodeSelector).to.deep.equal({ 'example.com/edge': 'true' });
      expect(pod(s)).to.include({ priorityClassName: 'system-node-critical', runtimeClassName: 'runc' });
      expect(ctr(s).resources).to.deep.equal({ requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '1Gi' } });
      expect((s.spec as { updateStrategy?: object }).updateStrategy).to.deep.equal({
        type: 'OnDelete',
        rollingUpdate: { maxUnavailable: 1 },
      });
    },
  },
  {
    name: 'speaker tolerations add to the control-plane ones',
    values: { speaker: { tolerations: [{ key: 'edge', operator: 'Exists' }] } },
    check: (objs) =>
      expect(pod(speaker(objs)).tolerations).to.deep.equal([
        ...CONTROL_PLANE_TOLERATIONS,
        { key: 'edge', operator: 'Exists' },
      ]),
  },
  {
    name: 'imagePullSecrets, pod labels and annotations',
    values: {
      imagePullSecrets: [{ name: 'regcred' }],
      controller: { labels: { team: 'net' }, podAnnotations: { 'example.com/a': '1' } },
      speaker: { labels: { team: 'edge' } },
    },
    check: (objs) => {
      for (const w of [controller(objs), speaker(objs)])
        expect(pod(w).imagePullSecrets).to.deep.equal([{ name: 'regcred' }]);
      expect(controller(objs).spec.template.metadata.labels).to.include({
        team: 'net',
        'app.kubernetes.io/component': 'controller',
      });
      expect(controller(objs).spec.template.metadata.annotations).to.deep.equal({ 'example.com/a': '1' });
      expect(speaker(objs).spec.template.metadata.labels).to.include({
        team: 'edge',
        'app.kubernetes.io/component': 'speaker',
      });
    },
  },
  {
    name: 'speaker.l2AnnounceRate: the --l2-announce-rate flag, a fraction as written',
    values: { speaker: { l2AnnounceRate: 0.5 } },
    check: (objs) => {
      expect(ctr(speaker(objs)).args).to.deep.equal([
        'speaker',
        '--log-level=info',
        '--health-port=7475',
        '--l2-announce-rate=0.5',
      ]);
    },
  },
  {
    name: 'controller.nodeOptions and speaker.nodeOptions: each container\'s NODE_OPTIONS; "" sets none',
    values: {
      controller: { nodeOptions: '--max-old-space-size=768' },
      speaker: { nodeOptions: '--max-semi-space-size=1 --max-old-space-size=512' },
    },
    check: (objs) => {
      const env = (w: Workload): { name: string; value?: string }[] =>
        (ctr(w) as Container & { env: { name: string; value?: string }[] }).env;
      expect(env(controller(objs))).to.deep.include({ name: 'NODE_OPTIONS', value: '--max-old-space-size=768' });
      expect(env(speaker(objs))).to.deep.include({
        name: 'NODE_OPTIONS',
        value: '--max-semi-space-size=1 --max-old-space-size=512',
      });
    },
  },
  {
    name: 'speaker.nodeOptions "" and the default controller: no NODE_OPTIONS in either',
    values: { speaker: { nodeOptions: '' } },
    check: (objs) => {
      for (const w of [controller(objs), speaker(objs)])
        expect((ctr(w) as Container & { env: { name: string }[] }).env.map((e) => e.name)).to.not.include(
          'NODE_OPTIONS',
        );
    },
  },
  {
    name: 'memberlist disabled: --member-port=0 and no UDP port',
    values: { speaker: { memberlist: { enabled: false } } },
    check: (objs) => {
      expect(ctr(speaker(objs)).args).to.deep.equal([
        'speaker',
        '--log-level=info',
        '--health-port=7475',
        '--l2-announce-rate=2000',
        '--member-port=0',
      ]);
      expect(ctr(speaker(objs)).ports.map((p) => p.name)).to.deep.equal(['metrics', 'health']);
    },
  },
  {
    name: 'memberlist on another port: flag, container port and the speaker NetworkPolicy follow',
    values: { speaker: { memberlist: { mlBindPort: 7950 } }, networkpolicies: { enabled: true } },
    check: (objs) => {
      expect(ctr(speaker(objs)).args).to.include('--member-port=7950');
      expect(ctr(speaker(objs)).ports).to.deep.include({ name: 'memberlist', containerPort: 7950, protocol: 'UDP' });
      const np = one(objs, 'NetworkPolicy', 'herald-speaker') as K8sObject & {
        spec: { ingress: { ports: { protocol: string; port: number }[] }[] };
      };
      expect(np.spec.ingress[0]!.ports).to.deep.include({ protocol: 'UDP', port: 7950 });
    },
  },
  {
    name: 'serviceMonitor: one per component, selecting its metrics Service, with interval, labels, relabelings, HTTPS with a token and TLS',
    values: {
      prometheus: {
        serviceMonitor: {
          enabled: true,
          interval: '15s',
          relabelings: [{ action: 'labeldrop', regex: 'pod' }],
          controller: {
            additionalLabels: { release: 'kps' },
            tlsConfig: { caFile: '/etc/prometheus/herald-ca.crt', insecureSkipVerify: null },
          },
          speaker: { annotations: { 'example.com/a': 'b' } },
        },
      },
    },
    check: (objs) => {
      for (const component of ['controller', 'speaker']) {
        const sm = one(objs, 'ServiceMonitor', `herald-${component}`) as K8sObject & {
          spec: { selector: { matchLabels: Record<string, string> }; endpoints: Record<string, unknown>[] };
        };
        const svc = one(objs, 'Service', `herald-${component}-metrics`);
        expect(
          matches(sm.spec.selector.matchLabels, svc.metadata.labels),
          `${component} ServiceMonitor selects its Service`,
        ).to.equal(true);
        expect(
          find(objs, 'Service').filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels)),
        ).to.have.length(1);
        expect(sm.spec).to.not.have.property('namespaceSelector'); // its own namespace
        expect(sm.spec.endpoints[0]).to.include({ port: 'metrics', interval: '15s' });
        // The job label the rules use first, then the user's.
        expect(sm.spec.endpoints[0]!['relabelings']).to.deep.equal([
          { action: 'replace', targetLabel: 'job', replacement: `herald-${component}` },
          { action: 'labeldrop', regex: 'pod' },
        ]);
      }
      const c = one(objs, 'ServiceMonitor', 'herald-controller') as K8sObject & {
        spec: { endpoints: Record<string, unknown>[] };
      };
      expect(c.metadata.labels).to.include({ release: 'kps' });
      const token = '/var/run/secrets/kubernetes.io/serviceaccount/token';
      expect(c.spec.endpoints[0]).to.deep.include({
        scheme: 'https',
        bearerTokenFile: token,
        tlsConfig: { caFile: '/etc/prometheus/herald-ca.crt' },
      });
      const s = one(objs, 'ServiceMonitor', 'herald-speaker') as K8sObject & {
        spec: { endpoints: Record<string, unknown>[] };
      };
      expect(s.metadata.annotations).to.deep.equal({ 'example.com/a': 'b' });
      expect(s.spec.endpoints[0]).to.deep.include({
        scheme: 'https',
        bearerTokenFile: token,
        tlsConfig: { insecureSkipVerify: true },
      });
      expect(find(objs, 'PodMonitor')).to.have.length(0);
    },
  },
  {
    name: "podMonitor: both components' pods, on their metrics port, job herald-<component>, HTTPS with the given authorization",
    values: {
      prometheus: {
        podMonitor: {
          enabled: true,
          additionalLabels: { release: 'kps' },
          authorization: { type: 'Bearer', credentials: { name: 'herald-scraper', key: 'token' } },
        },
      },
    },
    check: (objs) => {
      const pm = one(objs, 'PodMonitor', 'herald') as K8sObject & {
        spec: {
          selector: { matchExpressions: { key: string; values: string[] }[] };
          podMetricsEndpoints: { port: string; interval: string; relabelings: object[] }[];
        };
      };
      expect(pm.spec.podMetricsEndpoints[0]).to.deep.include({
        interval: '30s',
        relabelings: [
          {
            action: 'replace',
            sourceLabels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'],
            targetLabel: 'job',
            replacement: 'herald-$1',
          },
        ],
      });
      expect(pm.metadata.labels).to.include({ release: 'kps' });
      expect(pm.spec.podMetricsEndpoints[0]).to.deep.include({
        scheme: 'https',
        authorization: { type: 'Bearer', credentials: { name: 'herald-scraper', key: 'token' } },
        tlsConfig: { insecureSkipVerify: true },
      });
      for (const w of [controller(objs), speaker(objs)]) {
        const labels = w.spec.template.metadata.labels;
        expect(
          pm.spec.selector.matchExpressions.every((e) => e.values.includes(labels[e.key]!)),
          `selects ${w.metadata.name}`,
        ).to.equal(true);
        expect(ctr(w).ports.map((p) => p.name)).to.include(pm.spec.podMetricsEndpoints[0]!.port);
      }
      expect(find(objs, 'ServiceMonitor')).to.have.length(0);
    },
  },
  {
    name: 'prometheusRule: the groups of files/prometheus-rules.yaml, then extraAlerts',
    values: {
      prometheus: {
        prometheusRule: {
          enabled: true,
          additionalLabels: { release: 'kps' },
          extraAlerts: [{ alert: 'HeraldSpeakerMissing', expr: 'absent(herald_speaker_announced_ips)', for: '5m' }],
        },
      },
    },
    check: (objs) => {
      const rule = one(objs, 'PrometheusRule', 'herald') as K8sObject & {
        spec: { groups: { name: string; rules: object[] }[] };
      };
      const file = parse(readFileSync(join(CHART_DIR, 'files', 'prometheus-rules.yaml'), 'utf8')) as {
        groups: object[];
      };
      expect(rule.metadata.labels).to.include({ release: 'kps' });
      expect(rule.spec.groups).to.deep.equal([
        ...file.groups,
        {
          name: 'herald-extra',
          rules: [{ alert: 'HeraldSpeakerMissing', expr: 'absent(herald_speaker_announced_ips)', for: '5m' }],
        },
      ]);
    },
  },
  {
    name: "networkpolicies: default deny; the controller's selects its pods, metrics and health in, the API server ports out",
    values: { networkpolicies: { enabled: true, apiPort: 16443 } },
    check: (objs) => {
      const np = one(objs, 'NetworkPolicy', 'herald-controller') as K8sObject & {
        spec: {
          podSelector: { matchLabels: Record<string, string> };
          ingress: { ports: object[] }[];
          egress: { ports: object[] }[];
        };
      };
      expect(matches(np.spec.podSelector.matchLabels, controller(objs).spec.template.metadata.labels)).to.equal(true);
      expect(matches(np.spec.podSelector.matchLabels, speaker(objs).spec.template.metadata.labels)).to.equal(false);
      expect(np.spec.ingress[0]!.ports).to.deep.equal([
        { protocol: 'TCP', port: 7472 },
        { protocol: 'TCP', port: 7474 },
      ]);
      expect(np.spec.egress).to.deep.equal([
        {
          ports: [
            { protocol: 'TCP', port: 443 },
            { protocol: 'TCP', port: 16443 },
          ],
        },
      ]);
      expect(one(objs, 'NetworkPolicy', 'herald-default-deny').spec).to.deep.equal({
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
      });
      expect(one(objs, 'NetworkPolicy', 'herald-speaker')).to.be.an('object');
    },
  },
  {
    name: 'release namespace: every namespaced object and binding subject, and the Namespace when created',
    values: { namespace: { create: true } },
    namespace: 'lb-system',
    check: (objs) => {
      const ns = one(objs, 'Namespace', 'lb-system');
      expect(ns.metadata.labels).to.include({ 'pod-security.kubernetes.io/enforce': 'privileged' });
      const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'];
      for (const o of objs.filter((x) => !clusterScoped.includes(x.kind)))
        expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).to.equal('lb-system');
      for (const b of [...find(objs, 'ClusterRoleBinding'), ...find(objs, 'RoleBinding')]) {
        for (const s of (b as K8sObject & { subjects: { namespace: string }[] }).subjects)
          expect(s.namespace).to.equal('lb-system');
      }
    },
  },
  {
    name: 'crds.enabled=false: no CRDs, everything else',
    values: { crds: { enabled: false } },
    check: (objs) => {
      expect(find(objs, 'CustomResourceDefinition')).to.have.length(0);
      controller(objs);
      speaker(objs);
    },
  },
];

/** Values that must fail, and a part of helm's message naming what is wrong. */
const bad: { name: string; values: object; message: RegExp }[] = [
  {
    name: 'a log level Herald has not',
    values: { controller: { logLevel: 'all' } },
    message: /\/controller\/logLevel.*'error', 'warn', 'info', 'debug'/,
  },
  {
    name: 'a pull policy Kubernetes has not',
    values: { speaker: { image: { pullPolicy: 'Sometimes' } } },
    message: /\/speaker\/image\/pullPolicy/,
  },
  {
    name: 'a misspelt key (not silently ignored)',
    values: { networkPolicy: { enabled: true } },
    message: /additional properties 'networkPolicy' not allowed/,
  },
  {
    name: 'a MetalLB value Herald has no equivalent for',
    values: { speaker: { frr: { enabled: true } } },
    message: /\/speaker.*additional properties 'frr' not allowed/,
  },
  {
    name: 'a health port out of range',
    values: { controller: { healthPort: 0 } },
    message: /\/controller\/healthPort/,
  },
  {
    name: "MetalLB's excludeInterfaces map (Herald's is a string of globs)",
    values: { speaker: { excludeInterfaces: { enabled: true } } },
    message: /\/speaker\/excludeInterfaces.*want string/,
  },
  { name: 'metrics.secure not a boolean', values: { metrics: { secure: 'yes' } }, message: /\/metrics\/secure/ },
  {
    name: 'a memberlist port out of range',
    values: { speaker: { memberlist: { mlBindPort: 70000 } } },
    message: /\/speaker\/memberlist\/mlBindPort/,
  },
  {
    name: 'a gratuitous announcement rate of 0',
    values: { speaker: { l2AnnounceRate: 0 } },
    message: /\/speaker\/l2AnnounceRate.*exclusiveMinimum/,
  },
  {
    name: 'a gratuitous announcement rate that is no number',
    values: { speaker: { l2AnnounceRate: 'fast' } },
    message: /\/speaker\/l2AnnounceRate.*want number/,
  },
  { name: 'zero controller replicas', values: { controller: { replicas: 0 } }, message: /\/controller\/replicas/ },
];

describe('charts/herald: helm lint and helm template over a values table', function () {
  this.timeout(60 * 60_000); // the first run on a machine may wait for the helm build
  let helm: string;
  before(async function () {
    helm = await helmBinary(this);
  });

  for (const tc of cases) {
    it(tc.name, async function () {
      this.timeout(60_000);
      const lint = await helmWithValues(
        helm,
        ['lint', '--strict', CHART_DIR, '--namespace', tc.namespace ?? 'herald-system'],
        tc.values,
      );
      expect(lint.code, lint.stdout + lint.stderr).to.equal(0);
      tc.check(await helmTemplate(helm, tc.values, tc.namespace));
    });
  }

  it('helm package resolves files/crds (a link to crds/) and the packaged chart renders what the directory renders', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'herald-helm-pkg-'));
    try {
      const pkg = await run(helm, ['package', CHART_DIR, '--destination', dir]);
      expect(pkg.code, pkg.stderr).to.equal(0);
      const tgz = join(dir, 'herald-0.1.0.tgz');
      const list = await run('tar', ['tzf', tgz]);
      const crds = list.stdout.split('\n').filter((l) => l.startsWith('herald/files/crds/'));
      expect(crds).to.have.length(KINDS.length);
      expect(crds.every((l) => l.endsWith('.yaml'))).to.equal(true); // .helmignore leaves the samples out
      const rendered = await run(helm, ['template', 'herald', tgz, '--namespace', 'herald-system']);
      expect(rendered.code, rendered.stderr).to.equal(0);
      expect(parseObjects(rendered.stdout)).to.deep.equal(await helmTemplate(helm));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const tc of bad) {
    it(`refuses ${tc.name}`, async function () {
      this.timeout(60_000);
      const r = await helmWithValues(helm, ['template', 'herald', CHART_DIR], tc.values);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.match(tc.message);
    });
  }
});

/**
 * The alert rules (manifests/components/prometheus/herald-rules.yaml) with promtool built at
 * the pinned Prometheus version: `check rules`, and `test rules` on synthetic series where
 * every alert fires when it should and stays silent otherwise (herald-rules.promtool.yaml).
 * The PrometheusRule object is the rule file, and the kustomize component renders with the
 * base, its ServiceMonitors selecting the metrics Services.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { PROMETHEUS_RULE_FILE, RULES_FILE, renderPrometheusRule } from '../../../scripts/prometheus-rule.js';
import { REPO_ROOT } from '../../support/crds.js';
import type { RuleFile } from '../../support/prom-rules.js';
import { requirePromtool, run } from '../../support/promtool.js';
import { requireTool } from '../../support/tools.js';

const PROMTOOL_TESTS = join(import.meta.dirname, 'herald-rules.promtool.yaml');

interface AlertTest {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts?: readonly { exp_labels?: Record<string, string> }[];
}
interface PromtoolTests {
  readonly tests: readonly { readonly alert_rule_test?: readonly AlertTest[] }[];
}

const rulesText = (): Promise<string> => readFile(RULES_FILE, 'utf8');

describe('Prometheus alert rules', () => {
  it('every alert has a severity, a summary and a description', async () => {
    const rules = parse(await rulesText()) as RuleFile;
    const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    expect(alerts.map((a) => a.alert)).to.have.members([
      'HeraldConfigNotLoaded',
      'HeraldConfigStale',
      'HeraldAddressPoolExhausted',
      'HeraldAddressPoolUsageCritical',
      'HeraldAddressPoolUsageHigh',
      'HeraldServicePending',
      'HeraldBGPSessionDown',
      'HeraldBFDSessionDown',
      'HeraldLayer2OwnerFlapping',
      'HeraldSpeakerDown',
      'HeraldSpeakersAbsent',
      'HeraldControllerDown',
      'HeraldControllerNotLeading',
    ]);
    for (const a of alerts) {
      expect(['warning', 'critical'], `${a.alert} severity`).to.include(a.labels?.['severity']);
      expect(a.annotations?.['summary'], `${a.alert} summary`).to.be.a('string').and.not.equal('');
      expect(a.annotations?.['description'], `${a.alert} description`).to.be.a('string').and.not.equal('');
    }
  });

  it('prometheusrule.yaml is generated from the rule file and holds the same groups', async () => {
    const text = await rulesText();
    const obj = await readFile(PROMETHEUS_RULE_FILE, 'utf8');
    expect(obj, 'prometheusrule.yaml is out of date: run npx tsx scripts/prometheus-rule.ts').to.equal(
      renderPrometheusRule(text),
    );
    const pr = parse(obj) as { kind: string; spec: unknown };
    expect(pr.kind).to.equal('PrometheusRule');
    expect(pr.spec).to.deep.equal(parse(text));
  });

  it('the promtool tests cover every alert both firing and silent', async () => {
    const rules = parse(await rulesText()) as RuleFile;
    const tests = parse(await readFile(PROMTOOL_TESTS, 'utf8')) as PromtoolTests;
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      if (!r.alert) continue;
      const mine = cases.filter((c) => c.alertname === r.alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${r.alert}: no case where it fires`,
      ).to.equal(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${r.alert}: no case where it stays silent`,
      ).to.equal(true);
    }
  });

  describe('with promtool', function () {
    // The first build of promtool on a machine takes minutes (another suite may hold the lock).
    this.timeout(30 * 60_000);
    let promtool = '';
    before(async function () {
      promtool = await requirePromtool(this);
    });

    it('promtool check rules accepts the rule file and counts every rule', async () => {
      const rules = parse(await rulesText()) as RuleFile;
      const n = rules.groups.reduce((s, g) => s + g.rules.length, 0);
      const r = await run(promtool, ['check', 'rules', RULES_FILE]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout + r.stderr).to.contain(`SUCCESS: ${n} rules found`);
    });

    it('promtool test rules: each alert fires when it should and stays silent otherwise', async () => {
      const r = await run(promtool, ['test', 'rules', PROMTOOL_TESTS]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.contain('SUCCESS');
    });

    it('the harness fails a rule file with a bad expression, and a test whose alert does not fire', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'herald-rules-'));
      try {
        const bad = join(dir, 'bad.yaml');
        await writeFile(
          bad,
          (await rulesText()).replace('herald_config_stale_bool == 1', 'herald_config_stale_bool == == 1'),
        );
        const checked = await run(promtool, ['check', 'rules', bad]);
        expect(checked.code).to.not.equal(0);
        expect(checked.stdout + checked.stderr).to.match(/parse error|unexpected/);
        // The real rules, one alert's threshold moved: the same synthetic series must catch it.
        const moved = join(dir, 'moved.yaml');
        await writeFile(
          moved,
          (await rulesText()).replace('herald:pool_usage:ratio > 0.75 and', 'herald:pool_usage:ratio > 0.76 and'),
        );
        const tests = join(dir, 'tests.yaml');
        await writeFile(
          tests,
          (await readFile(PROMTOOL_TESTS, 'utf8')).replace(
            '../../../manifests/components/prometheus/herald-rules.yaml',
            'moved.yaml',
          ),
        );
        const tested = await run(promtool, ['test', 'rules', tests], dir);
        expect(tested.code, tested.stdout).to.not.equal(0);
        expect(tested.stdout + tested.stderr).to.contain('HeraldAddressPoolUsageHigh');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('kustomize component', () => {
    it('renders with the base: ServiceMonitors select the metrics Services by a port they have; the PrometheusRule is there', async function () {
      requireTool(this, 'kubectl');
      const dir = await mkdtemp(join(tmpdir(), 'herald-kust-'));
      try {
        const rel = relative(dir, REPO_ROOT);
        await writeFile(
          join(dir, 'kustomization.yaml'),
          `resources: [${rel}/manifests]\ncomponents: [${rel}/manifests/components/prometheus]\n`,
        );
        const out = await new Promise<string>((resolve, reject) => {
          const p = spawn('kubectl', ['kustomize', dir]);
          let o = '';
          let e = '';
          p.stdout.on('data', (d: Buffer) => (o += d.toString()));
          p.stderr.on('data', (d: Buffer) => (e += d.toString()));
          p.on('close', (code) => (code === 0 ? resolve(o) : reject(new Error(`kubectl kustomize: ${e}`))));
        });
        type Obj = {
          kind: string;
          metadata: { name: string; namespace?: string; labels?: Record<string, string> };
          spec: Record<string, unknown>;
        };
        const objs = parseAllDocuments(out).map((d) => d.toJS() as Obj);
        const monitors = objs.filter((o) => o.kind === 'ServiceMonitor');
        expect(monitors.map((m) => m.metadata.name).sort()).to.deep.equal(['herald-controller', 'herald-speaker']);
        for (const m of monitors) {
          expect(m.metadata.namespace).to.equal('herald-system');
          const sel = (m.spec['selector'] as { matchLabels: Record<string, string> }).matchLabels;
          const matched = objs.filter(
            (o) => o.kind === 'Service' && Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v),
          );
          expect(
            matched.map((s) => s.metadata.name),
            m.metadata.name,
          ).to.deep.equal([`${m.metadata.name}-metrics`]);
          const ports = (matched[0]!.spec['ports'] as { name: string }[]).map((p) => p.name);
          const endpoints = m.spec['endpoints'] as {
            port: string;
            honorLabels: boolean;
            relabelings: { targetLabel: string; replacement: string }[];
          }[];
          for (const ep of endpoints) {
            expect(ports).to.include(ep.port);
            expect(ep.honorLabels).to.equal(true);
            // The job label the rules' up{} selectors use.
            expect(ep.relabelings).to.deep.include({
              action: 'replace',
              targetLabel: 'job',
              replacement: m.metadata.name,
            });
          }
        }
        const rule = objs.find((o) => o.kind === 'PrometheusRule');
        expect(rule?.metadata.namespace).to.equal('herald-system');
        expect(rule?.spec).to.deep.equal(parse(await rulesText()));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});

import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture } from '../../support/capture.js';
import { spawnSync } from 'node:child_process';
import { runValidate } from '../../../src/cli/validate.js';

const INVALID = 'test/fixtures/invalid';

describe('herald validate', () => {
  it('accepts a complete valid configuration and summarises it', async () => {
    const c = capture();
    expect(await runValidate(['test/fixtures/valid'], c.io)).to.equal(0);
    expect(c.out()).to.match(
      /^valid: 10 object\(s\) \(3 IPAddressPool, 1 L2Advertisement, 1 BGPAdvertisement, 1 BGPPeer, 1 BFDProfile, 1 Community, 1 Secret\); 1 other object\(s\) not checked\n$/,
    );
  });

  const files = readdirSync(INVALID)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  it('has at least 25 distinct invalid fixtures', () => {
    expect(files.length).to.be.at.least(25);
  });
  for (const file of files) {
    const header = /^# expect: (.*)$/m.exec(readFileSync(join(INVALID, file), 'utf8'));
    it(`rejects ${file}`, async () => {
      expect(header, 'fixture needs an "# expect:" header').to.not.equal(null);
      const words = header![1]!.split(' ');
      const c = capture();
      expect(await runValidate([join(INVALID, file)], c.io)).to.equal(1);
      const lines = c.out().split('\n');
      if (words[0] === 'YAML') {
        expect(lines.some((l) => l.includes('YAML:'))).to.equal(true, c.out());
        return;
      }
      const [kind = '', name = '', field = '', ...reason] = words;
      const wanted = `${kind} ${name}`;
      const objectRe = new RegExp(
        `: ${kind} ([a-z0-9-]+/)?${name.replace(/[.]/g, '\\.')}: ${field.replace(/[.[\]]/g, '\\$&')}: `,
      );
      const hit = lines.find((l) => objectRe.test(l) && l.includes(reason.join(' ')));
      expect(hit, `no line names ${wanted} / ${field} / ${reason.join(' ')} in:\n${c.out()}`).to.be.a('string');
      expect(hit!.startsWith(join(INVALID, file) + ': ')).to.equal(true, 'line starts with the file name');
    });
  }

  it('reports per file and never aborts: an alias error in one file, the other files still checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-validate-'));
    try {
      writeFileSync(
        join(dir, 'a-alias.yaml'),
        'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: a}\nspec: {addresses: *nowhere}\n',
      );
      writeFileSync(
        join(dir, 'b-bomb.yaml'),
        'a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
      );
      writeFileSync(
        join(dir, 'c-bad.yaml'),
        'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: c}\nspec: {addresses: ["127.0.0.0/8"]}\n',
      );
      writeFileSync(
        join(dir, 'd-good.yaml'),
        'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: d}\nspec: {addresses: ["192.0.2.0/28"]}\n',
      );
      const c = capture();
      expect(await runValidate([dir], c.io)).to.equal(1);
      const out = c.out();
      expect(out).to.match(new RegExp(`^${join(dir, 'a-alias.yaml')}(:\\d+)?: YAML: .*nowhere`, 'm'));
      expect(out).to.match(new RegExp(`^${join(dir, 'b-bomb.yaml')}(:\\d+)?: YAML: .*alias`, 'm'));
      expect(out).to.include(
        `${join(dir, 'c-bad.yaml')}: IPAddressPool c: spec.addresses[0]: "127.0.0.0/8" includes 127.0.0.0/8, loopback`,
      );
      expect(out).to.not.include('d-good');
      expect(c.err()).to.include('from 4 file(s)');
      expect(c.err()).to.include(`${join(dir, 'c-bad.yaml')} (1)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a pool of 1,024 identical entries prints a bounded report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-validate-'));
    try {
      const list = Array(1024).fill('"198.51.100.0/24"').join(', ');
      writeFileSync(
        join(dir, 'poison.yaml'),
        `apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: poison}\nspec: {addresses: [${list}]}\n`,
      );
      const c = capture();
      expect(await runValidate([dir], c.io)).to.equal(1);
      const lines = c.out().split('\n').filter(Boolean);
      expect(lines.length).to.equal(21);
      expect(lines.at(-1)).to.include('1003 more error(s) not listed (1023 in all');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs as the herald binary: exit 0 on valid, 1 on invalid, 2 on bad usage', function () {
    // Three processes that each compile the CLI through tsx: seconds apiece on a busy machine.
    this.timeout(90_000);
    const run = (...args: string[]) => spawnSync(process.execPath, ['bin/herald.js', ...args], { encoding: 'utf8' });
    const ok = run('validate', '-f', 'test/fixtures/valid');
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/^valid: /);
    const bad = run('validate', '-f', INVALID);
    expect(bad.status).to.equal(1);
    expect(bad.stdout.split('\n').filter(Boolean).length).to.be.at.least(files.length);
    const usage = run('validate');
    expect(usage.status).to.equal(2);
    expect(usage.stderr).to.match(/Missing required argument: file/);
  });
});

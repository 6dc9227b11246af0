/**
 * The options the documentation names and the options the CLI has are the same: every flag
 * README.md and docs/ give for a command (in a `herald CMD …` code span or line, or in that
 * command's flag table) is in `herald CMD --help`, and every option the help lists is
 * documented for that command. The help comes from the real parser (cmd/main.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { heraldParser } from '../../../cmd/main.js';
import { REPO_ROOT } from '../../support/crds.js';
import { capture } from '../../support/capture.js';

const COMMANDS = ['validate', 'import', 'status', 'collect', 'apiserver', 'controller', 'speaker', 'lab'] as const;
type CommandName = (typeof COMMANDS)[number];

/** Files whose flag table (first header cell `flag` or `option`) is about one command. */
const FLAG_TABLES: Readonly<Record<string, CommandName>> = {
  'docs/controller.md': 'controller',
  'docs/apiserver.md': 'apiserver',
  'docs/layer2.md': 'speaker',
};

async function helpOf(args: string[]): Promise<string> {
  const c = capture();
  let text = '';
  await heraldParser(
    c.io,
    () => Promise.resolve(),
    () => undefined,
  ).parseAsync(args, {}, (_err, _argv, output) => {
    text = output;
  });
  return text;
}

/** The options a help text lists, long names and short aliases (`-f, --file`). */
function optionsIn(help: string): Set<string> {
  const out = new Set<string>();
  for (const m of help.matchAll(/^ {2,6}((?:-[a-zA-Z], )*)--([a-z0-9-]+)/gm)) {
    out.add(`--${m[2]}`);
    for (const s of (m[1] ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean))
      out.add(s);
  }
  return out;
}

const flagsIn = (text: string): string[] =>
  [...text.matchAll(/(?<![\w-])(--?[a-z][a-z0-9-]*)/g)].map((m) => m[1]!.replace(/^--no-/, '--'));

/** What the documentation says each command takes, and where. */
function documented(): Map<CommandName | 'global', Map<string, string>> {
  const out = new Map<CommandName | 'global', Map<string, string>>();
  const add = (cmd: CommandName | 'global', flag: string, where: string): void => {
    if (!out.has(cmd)) out.set(cmd, new Map());
    if (!out.get(cmd)!.has(flag)) out.get(cmd)!.set(flag, where);
  };
  const files = [
    'README.md',
    ...readdirSync(join(REPO_ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const file of files) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const where = `${file}:${i + 1}`;
      // `herald CMD …` in a code span, or a shell line starting with it.
      const spans = [...line.matchAll(/`(herald [^`]*)`/g)].map((m) => m[1]!);
      if (/^herald [a-z]/.test(line)) spans.push(line);
      for (const span of spans) {
        const cmd = /^herald ([a-z]+)/.exec(span)?.[1];
        if (!cmd || !(COMMANDS as readonly string[]).includes(cmd)) continue;
        for (const f of flagsIn(span.replace(/^herald [a-z]+/, ''))) add(cmd as CommandName, f, where);
      }
      // A flag table row: | `--x …` | …
      const row = /^\| (`--?[a-z](?:[^|\\]|\\.)*)\|/.exec(line);
      if (row && !/^\| `herald/.test(line)) {
        const flags = [...row[1]!.matchAll(/`([^`]*)`/g)].flatMap((m) => flagsIn(m[1]!.split(' ')[0]!));
        const cmd = FLAG_TABLES[file];
        if (flags.includes('--log-level') && file === 'README.md') add('global', '--log-level', where);
        else if (cmd) for (const f of flags) add(cmd, f, where);
        else throw new Error(`${where}: a flag table in a file not in FLAG_TABLES; say which command it documents`);
      }
    });
  }
  return out;
}

describe('CLI help and documentation name the same options', () => {
  const docs = documented();

  it('the global options in the top-level help are documented', async () => {
    const help = optionsIn(await helpOf(['--help']));
    expect([...help].filter((f) => f !== '--help')).to.deep.equal(['--log-level']);
    expect([...(docs.get('global')?.keys() ?? [])]).to.deep.equal(['--log-level']);
  });

  for (const cmd of COMMANDS) {
    it(`herald ${cmd}: every documented flag is in --help, and every option in --help is documented`, async () => {
      const help = await helpOf([cmd, '--help']);
      expect(help, `no help for ${cmd}`).to.include(`herald ${cmd}`);
      const has = optionsIn(help);
      const named = docs.get(cmd) ?? new Map<string, string>();
      const missing = [...named].filter(([f]) => !has.has(f)).map(([f, where]) => `${f} (${where})`);
      expect(missing, `documented for herald ${cmd} but not an option`).to.deep.equal([]);
      // Each option counts as documented when its long name or one of its aliases is.
      const groups = [...help.matchAll(/^ {2,6}((?:-[a-zA-Z], )*)--([a-z0-9-]+)/gm)].map((m) => [
        `--${m[2]}`,
        ...(m[1] ?? '')
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ]);
      const undocumented = groups
        .filter((g) => g[0] !== '--help' && g[0] !== '--log-level' && !g.some((f) => named.has(f)))
        .map((g) => g[0]);
      expect(undocumented, `options of herald ${cmd} the documentation never names`).to.deep.equal([]);
    });
  }
});

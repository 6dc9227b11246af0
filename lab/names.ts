/**
 * A lab's names: every namespace, link and process of one lab carries a prefix derived from
 * its state directory (or from `--name`), so two labs run side by side and `herald lab down`
 * removes only its own.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Netns } from './netns.js';

/** Short enough for interface names (15 characters with a `pNN` suffix). */
export function labPrefix(stateDir: string, name?: string): string {
  if (name !== undefined) {
    if (!/^[a-z0-9]{1,6}$/.test(name))
      throw new Error(`--name must be 1-6 lower-case letters or digits, not "${name}"`);
    return `hl${name}`;
  }
  return `hl${createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 6)}`;
}

/** The file where the lab notes the processes it starts outside namespaces too. */
export const PIDS = 'pids';
/** The prefix a lab used, noted in its state directory (`lab down` without `--name` reads it). */
export const PREFIX_FILE = 'prefix';
/** The control plane a lab runs on (`--kubernetes`). */
export type LabKubernetes = 'embedded' | 'real';
export const LAB_KUBERNETES: readonly LabKubernetes[] = ['embedded', 'real'];
/** Where `--kubernetes real` keeps its control plane (scripts/kube-up.sh: keys, etcd data, logs, `*.pid`). */
export const KUBE_DIR = 'kube';

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * Removes the namespaces and processes of the lab that used this state directory: namespaces
 * with its prefix (their processes first), and processes it noted in the state directory
 * that still run with that directory on their command line. Other labs are left alone.
 */
export function labDown(stateDir: string, name?: string): { namespaces: number; prefix: string } {
  const noted = join(stateDir, PREFIX_FILE);
  const prefix =
    name === undefined && existsSync(noted) ? readFileSync(noted, 'utf8').trim() : labPrefix(stateDir, name);
  const pidFile = join(stateDir, PIDS);
  const kubeDir = join(stateDir, KUBE_DIR);
  // A control plane killed with the lab: its PIDs are in the lab's list and in its own directory.
  const kubePids = existsSync(kubeDir)
    ? readdirSync(kubeDir)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => Number(readFileSync(join(kubeDir, f), 'utf8').trim()))
    : [];
  const listed = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n').map(Number) : [];
  for (const pid of [...listed, ...kubePids].filter((n) => n > 0)) {
    if (cmdline(pid).includes(stateDir)) spawnSync('kill', ['-9', String(pid)]);
  }
  rmSync(pidFile, { force: true });
  rmSync(kubeDir, { recursive: true, force: true });
  const left = Netns.existing(prefix);
  Netns.removeAll(left);
  rmSync(join(stateDir, 'api.sock'), { force: true });
  return { namespaces: left.length, prefix };
}

/** `herald status` as one screen of text. */
import type { StatusReport } from './status-report.js';
import { renderTable } from './table.js';

const dash = (s: string): string => (s === '' ? '-' : s);

export function renderStatus(r: StatusReport, cluster: string): string {
  const out: string[] = [`Herald status of ${cluster}\n`];
  out.push('\nPOOLS\n');
  out.push(
    r.pools.length === 0
      ? '(none)\n'
      : renderTable(
          ['NAME', 'ADDRESSES', 'IPv4 USED', 'IPv4 FREE', 'IPv6 USED', 'IPv6 FREE'],
          r.pools.map((p) => [
            p.name,
            p.addresses.join(','),
            p.assignedIPv4,
            p.availableIPv4,
            p.assignedIPv6,
            p.availableIPv6,
          ]),
        ),
  );
  out.push('\nSERVICES\n');
  out.push(
    r.services.length === 0
      ? '(none)\n'
      : renderTable(
          ['SERVICE', 'IPS', 'POOL', 'MODE', 'ANNOUNCED BY', 'NOT ANNOUNCING'],
          r.services.map((s) => [
            `${s.namespace}/${s.name}`,
            s.ips.length > 0 ? s.ips.join(',') : `<pending>${s.assignment ? ` ${s.assignment.reason}` : ''}`,
            dash(s.pool),
            dash(s.mode),
            dash(
              s.announcedBy
                .map((n) => ((s.via[n] ?? []).length > 0 ? `${n}(${(s.via[n] ?? []).join(',')})` : n))
                .join(' '),
            ),
            dash(s.notAnnouncing.map((n) => `${n.node}: ${n.reason}`).join('; ')),
          ]),
        ),
  );
  out.push('\nBGP SESSIONS\n');
  out.push(
    r.sessions.length === 0
      ? '(none)\n'
      : renderTable(
          ['NODE', 'PEER', 'ADDRESS', 'STATE', 'PREFIXES', 'BFD', 'LAST ERROR'],
          r.sessions.map((s) => [
            s.node,
            s.peer,
            dash(s.peerAddress),
            s.state,
            String(s.prefixesSent),
            dash(s.bfd),
            dash(s.lastError),
          ]),
        ),
  );
  out.push('\nCONFIGURATION\n');
  out.push(
    r.configErrors.length === 0
      ? 'no errors reported\n'
      : renderTable(
          ['OBJECT', 'FIELD', 'REASON', 'REPORTED BY'],
          r.configErrors.map((e) => [
            e.object,
            dash(e.field),
            `${e.reason}${e.transient ? ' (may resolve)' : ''}`,
            e.reporter,
          ]),
        ),
  );
  if (r.warnings.length > 0) out.push(`\nWARNINGS\n${r.warnings.map((w) => `- ${w}\n`).join('')}`);
  out.push(
    r.problems.length === 0
      ? '\nOK: nothing wrong\n'
      : `\nPROBLEMS (${r.problems.length})\n${r.problems.map((p) => `- ${p}\n`).join('')}`,
  );
  return out.join('');
}

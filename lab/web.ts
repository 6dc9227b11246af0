/**
 * `herald lab --web PORT`: a live picture of the lab in a browser, on 127.0.0.1 only. The
 * page polls /state (JSON: the router, the client, every node with its addresses, AS, speaker
 * and BGP sessions, and every Service row of the table: owners, the last ARP/NDP and curl
 * results, reasons) once a second and redraws an SVG: the router above, the nodes on the LAN
 * below it (a session line per node, green when Established), the Services under the node
 * that answers for them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LabRow } from './observe.js';

export interface WebNode {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly asn: number;
  readonly speakerAlive: boolean;
  /** BGP session states reported by the node's speaker (BGPSessionState). */
  readonly sessions: readonly { readonly peer: string; readonly state: string }[];
}

export interface WebState {
  readonly name: string;
  readonly time: string;
  readonly router: { readonly kind: string; readonly addresses: readonly string[]; readonly asn: number };
  readonly client: readonly string[];
  readonly nodes: readonly WebNode[];
  readonly services: readonly LabRow[];
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>herald lab</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; }
svg text { font: 12px system-ui, sans-serif; }
.ok { fill: #2e7d32; } .bad { fill: #c62828; } .muted { fill: #777; }
table { border-collapse: collapse; margin-top: 12px; } td, th { padding: 2px 8px; text-align: left; border-bottom: 1px solid #ddd; }
tr[data-ok="false"] td { color: #c62828; }
</style></head>
<body>
<h1 id="title">herald lab</h1>
<div id="updated">loading…</div>
<svg id="picture" width="1100" height="460" role="img" aria-label="lab topology"></svg>
<table id="services"><thead><tr><th>Service</th><th>IP</th><th>Mode</th><th>Announced by</th><th>ARP/NDP</th><th>curl</th><th>Why</th></tr></thead><tbody></tbody></table>
<script>
const NS = 'http://www.w3.org/2000/svg';
function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
function served(r) { return r.curl.ok && r.mode !== '-' && (!r.neighbour || r.neighbour.ok); }
function draw(s) {
  document.getElementById('title').textContent = 'herald lab ' + s.name;
  document.getElementById('updated').textContent = 'updated ' + s.time;
  const svg = document.getElementById('picture');
  svg.replaceChildren();
  const w = 1100, nodeW = 200, gap = 20;
  const rx = w / 2 - 120;
  svg.append(el('rect', { x: rx, y: 10, width: 240, height: 54, rx: 6, fill: '#e3f2fd', stroke: '#1565c0', 'data-role': 'router' }));
  svg.append(el('text', { x: rx + 10, y: 30 }, 'router (' + s.router.kind + ') AS ' + s.router.asn));
  svg.append(el('text', { x: rx + 10, y: 50, class: 'muted' }, s.router.addresses.join('  ')));
  svg.append(el('line', { x1: 20, y1: 130, x2: w - 20, y2: 130, stroke: '#999', 'stroke-width': 3 }));
  svg.append(el('text', { x: 24, y: 124, class: 'muted' }, 'LAN'));
  svg.append(el('rect', { x: w - 270, y: 80, width: 250, height: 36, rx: 6, fill: '#f5f5f5', stroke: '#555', 'data-role': 'client' }));
  svg.append(el('text', { x: w - 260, y: 103 }, 'client ' + s.client.join('  ')));
  s.nodes.forEach((n, i) => {
    const x = 20 + i * (nodeW + gap), y = 160;
    const established = n.sessions.some((x) => x.state === 'Established');
    svg.append(el('line', { x1: x + nodeW / 2, y1: y, x2: rx + 120, y2: 64, stroke: established ? '#2e7d32' : '#c62828', 'stroke-dasharray': established ? '' : '4 4', 'data-session': n.name + ':' + (n.sessions[0] ? n.sessions[0].state : 'none') }));
    svg.append(el('rect', { x, y, width: nodeW, height: 64, rx: 6, fill: n.speakerAlive ? '#e8f5e9' : '#ffebee', stroke: '#333', 'data-node': n.name }));
    svg.append(el('text', { x: x + 8, y: y + 18 }, n.name + '  AS ' + n.asn + (n.speakerAlive ? '' : '  (speaker down)')));
    svg.append(el('text', { x: x + 8, y: y + 36, class: 'muted' }, n.addresses.join('  ')));
    svg.append(el('text', { x: x + 8, y: y + 54, class: established ? 'ok' : 'bad' }, 'BGP ' + (n.sessions.map((x) => x.state).join(',') || 'none')));
    let sy = y + 90;
    for (const r of s.services.filter((r) => r.announcedBy.includes(n.name))) {
      const ok = served(r);
      svg.append(el('text', { x: x + 8, y: sy, class: ok ? 'ok' : 'bad', 'data-service': r.service, 'data-ok': ok }, (r.mode === 'L2' ? '● ' : '◆ ') + r.service + ' ' + r.ip));
      sy += 16;
    }
  });
  const body = document.querySelector('#services tbody');
  body.replaceChildren();
  for (const r of s.services) {
    const tr = document.createElement('tr');
    tr.dataset.ok = String(served(r));
    tr.dataset.service = r.service;
    const neighbour = r.neighbour ? (r.neighbour.ok ? r.neighbour.node : 'WRONG ' + (r.neighbour.node || r.neighbour.mac || 'no answer')) : '-';
    const curl = r.curl.ok ? r.curl.pod + ' on ' + r.curl.node + ' (' + r.curl.ms + ' ms)' : 'no answer';
    for (const c of [r.service, r.ip, r.mode, r.announcedBy.join(',') || '-', neighbour, curl, r.reason || '']) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    body.append(tr);
  }
}
async function tick() {
  try {
    const res = await fetch('/state');
    if (res.ok) draw(await res.json());
  } catch (e) {
    document.getElementById('updated').textContent = 'lab unreachable: ' + e;
  }
  setTimeout(tick, 1000);
}
tick();
</script></body></html>
`;

export interface WebView {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startWebView(port: number, state: () => WebState | undefined): Promise<WebView> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(PAGE);
      return;
    }
    if (req.url === '/state') {
      const s = state();
      res.writeHead(s ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(s ?? { error: 'the lab is starting' }));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

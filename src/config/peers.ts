/** BGPPeer, BFDProfile and Community objects. */
import { parseIP, type IP } from '../net/ip.js';
import { parseCommunity } from './community.js';
import { parseDuration } from './duration.js';
import type { Envelope } from './envelope.js';
import { readLabelSelector } from './label-selector.js';
import type { BfdProfile, CommunityAlias, DynamicASN, Peer, PeerPassword, SecretInfo } from './model.js';
import type { FieldReader } from './reader.js';
import { hasHardErrors } from './advertisements.js';

const ASN_MAX = 4294967295;

function ip(r: FieldReader, key: string): IP | undefined {
  const text = r.string(key);
  if (text === undefined) return undefined;
  try {
    return parseIP(text);
  } catch (err) {
    r.error(key, (err as Error).message);
    return undefined;
  }
}

/** Whole seconds from a duration field, or undefined (with an error) when not one. */
function seconds(r: FieldReader, key: string): number | undefined {
  const text = r.string(key);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) {
    r.error(key, `"${text}" is not a duration (e.g. "90s", "1m30s")`);
    return undefined;
  }
  if (ms % 1000 !== 0) {
    r.error(key, `"${text}" must be a whole number of seconds`);
    return undefined;
  }
  return ms / 1000;
}

export function readPeer(
  env: Envelope,
  ctx: { secrets: ReadonlyMap<string, SecretInfo>; bfdProfiles: ReadonlySet<string>; secretsKnown: boolean },
): Peer | undefined {
  const spec = env.root.object('spec');
  if (!spec) {
    env.root.error('spec', 'required');
    return undefined;
  }
  spec.only([
    'myASN',
    'peerASN',
    'dynamicASN',
    'peerAddress',
    'sourceAddress',
    'peerPort',
    'holdTime',
    'keepaliveTime',
    'connectTime',
    'routerID',
    'nodeSelectors',
    'password',
    'passwordSecret',
    'bfdProfile',
    'enableGracefulRestart',
    'passive',
    'ebgpMultiHop',
    'vrf',
    'disableMP',
    'dualStackAddressFamily',
    'localASN',
    'interface',
  ]);
  // MetalLB v1beta2 fields the speaker does not implement: refused, as the CRD's CEL rules do.
  if (spec.has('localASN'))
    spec.error(
      'localASN',
      'not supported by Herald (every session uses myASN as its local AS); remove localASN and set myASN',
    );
  if (spec.has('interface'))
    spec.error(
      'interface',
      "interface (unnumbered BGP) is not supported by Herald; remove interface and set peerAddress to the router's address",
    );
  const myASN = spec.int('myASN', 1, ASN_MAX);
  if (!spec.has('myASN')) spec.error('myASN', 'required (1-4294967295)');
  const peerASN = spec.int('peerASN', 1, ASN_MAX);
  const dyn = spec.string('dynamicASN');
  let dynamicASN: DynamicASN | undefined;
  if (dyn !== undefined) {
    if (dyn === 'internal' || dyn === 'external') dynamicASN = dyn;
    else spec.error('dynamicASN', `"${dyn}" must be "internal" or "external"`);
  }
  if (spec.has('peerASN') && spec.has('dynamicASN'))
    spec.error('dynamicASN', 'set either peerASN or dynamicASN, not both');
  if (!spec.has('peerASN') && !spec.has('dynamicASN')) spec.error('peerASN', 'required unless dynamicASN is set');
  const peerAddress = ip(spec, 'peerAddress');
  if (!spec.has('peerAddress')) spec.error('peerAddress', 'required');
  const sourceAddress = ip(spec, 'sourceAddress');
  if (peerAddress && sourceAddress && peerAddress.family !== sourceAddress.family) {
    spec.error('sourceAddress', `is ${sourceAddress.family} but peerAddress is ${peerAddress.family}`);
  }
  const routerID = ip(spec, 'routerID');
  if (routerID && routerID.family !== 'IPv4') spec.error('routerID', 'a BGP identifier is an IPv4 address (4 bytes)');
  if (routerID && routerID.value === 0n) spec.error('routerID', '0.0.0.0 is not a valid BGP identifier');
  const peerPort = spec.int('peerPort', 1, 16384) ?? 179;

  const holdTime = seconds(spec, 'holdTime') ?? 90;
  if (holdTime !== 0 && holdTime < 3) spec.error('holdTime', `${holdTime}s: must be 0 or at least 3s (RFC 4271 §4.2)`);
  if (holdTime > 65535) spec.error('holdTime', `${holdTime}s exceeds 65535s`);
  const keepaliveSet = seconds(spec, 'keepaliveTime');
  const keepaliveTime = keepaliveSet ?? Math.floor(holdTime / 3);
  if (keepaliveSet !== undefined) {
    if (holdTime === 0 && keepaliveSet !== 0) spec.error('keepaliveTime', 'must be 0 when holdTime is 0');
    else if (holdTime > 0 && keepaliveSet >= holdTime) {
      spec.error('keepaliveTime', `${keepaliveSet}s must be lower than holdTime (${holdTime}s)`);
    }
  }
  const connectTime = seconds(spec, 'connectTime') ?? 10;
  if (connectTime < 1 || connectTime > 65535)
    spec.error('connectTime', `${connectTime}s must be between 1s and 65535s`);

  const ebgpMultiHop = spec.bool('ebgpMultiHop') ?? false;
  const ibgp = dynamicASN === 'internal' || (peerASN !== undefined && peerASN === myASN);
  if (ebgpMultiHop && ibgp) spec.error('ebgpMultiHop', 'applies to eBGP sessions only, but this peer is iBGP');

  let password: PeerPassword = { kind: 'none' };
  const plain = spec.string('password');
  const ps = spec.object('passwordSecret');
  if (plain !== undefined && ps) spec.error('passwordSecret', 'set either password or passwordSecret, not both');
  else if (plain !== undefined) {
    if (plain.length === 0 || plain.length > 80) spec.error('password', 'must be 1-80 characters (TCP-MD5 key limit)');
    else password = { kind: 'plain', value: plain };
  } else if (ps) {
    ps.only(['name', 'namespace']);
    const name = ps.string('name');
    const namespace = ps.string('namespace') ?? env.meta.namespace ?? 'default';
    if (name === undefined) ps.error('name', 'required');
    else {
      const secret = ctx.secrets.get(`${namespace}/${name}`);
      if (!secret) {
        if (ctx.secretsKnown) ps.errorHere(`Secret ${namespace}/${name} does not exist`, true);
        password = { kind: 'secret', name, namespace };
      } else if (secret.type !== 'kubernetes.io/basic-auth') {
        ps.errorHere(`Secret ${namespace}/${name} has type ${secret.type}; it must be kubernetes.io/basic-auth`);
      } else if (!secret.data['password']) {
        ps.errorHere(`Secret ${namespace}/${name} has no "password" key`);
      } else {
        password = { kind: 'secret', name, namespace, value: secret.data['password'] };
      }
    }
  }
  const bfdProfile = spec.string('bfdProfile');
  if (bfdProfile !== undefined && !ctx.bfdProfiles.has(bfdProfile)) {
    spec.error('bfdProfile', `BFDProfile "${bfdProfile}" does not exist (or is invalid)`, true);
  }
  const nodeSelectors = spec.objectList('nodeSelectors').map(readLabelSelector);
  const enableGracefulRestart = spec.bool('enableGracefulRestart') ?? false;
  const passive = spec.bool('passive') ?? false;
  const vrf = spec.string('vrf') ?? '';
  // MetalLB runs such sessions in a Linux VRF through FRR; Herald's speaker has no VRF
  // support, and a session from the default table could reach a different network.
  if (vrf !== '')
    spec.error(
      'vrf',
      `"${vrf}": sessions in a VRF are not supported by Herald's speaker; remove the field to peer from the default routing table`,
    );
  const disableMP = spec.bool('disableMP') ?? false;
  const dualStackAddressFamily = spec.bool('dualStackAddressFamily') ?? false;
  if (hasHardErrors(env) || myASN === undefined || peerAddress === undefined) return undefined;
  return {
    meta: env.meta,
    name: env.meta.name,
    myASN,
    ...(peerASN !== undefined ? { peerASN } : {}),
    ...(dynamicASN !== undefined ? { dynamicASN } : {}),
    peerAddress,
    ...(sourceAddress ? { sourceAddress } : {}),
    peerPort,
    holdTime,
    keepaliveTime,
    connectTime,
    ...(routerID ? { routerID } : {}),
    nodeSelectors,
    password,
    ...(bfdProfile !== undefined ? { bfdProfile } : {}),
    enableGracefulRestart,
    passive,
    ebgpMultiHop,
    vrf,
    disableMP,
    dualStackAddressFamily,
  };
}

export function readBfdProfile(env: Envelope): BfdProfile | undefined {
  const s = env.root.object('spec');
  if (s) {
    s.only([
      'receiveInterval',
      'transmitInterval',
      'detectMultiplier',
      'echoInterval',
      'echoMode',
      'passiveMode',
      'minimumTtl',
    ]);
  }
  const profile: BfdProfile = {
    meta: env.meta,
    name: env.meta.name,
    receiveInterval: s?.int('receiveInterval', 10, 60000) ?? 300,
    transmitInterval: s?.int('transmitInterval', 10, 60000) ?? 300,
    detectMultiplier: s?.int('detectMultiplier', 2, 255) ?? 3,
    echoInterval: s?.int('echoInterval', 10, 60000) ?? 50,
    echoMode: s?.bool('echoMode') ?? false,
    passiveMode: s?.bool('passiveMode') ?? false,
    minimumTtl: s?.int('minimumTtl', 1, 254) ?? 254,
  };
  // Echo packets (RFC 5880 §6.4) are addressed to this node itself and looped back by the
  // peer's forwarding plane: that needs raw packet sockets the speaker does not use for BFD.
  if (profile.echoMode)
    s?.error(
      'echoMode',
      "echo mode is not supported by Herald: set echoMode to false (asynchronous mode detects failures at the profile's intervals)",
    );
  return hasHardErrors(env) ? undefined : profile;
}

/** Aliases defined by one Community object; duplicates against `known` are errors. */
export function readCommunityAliases(env: Envelope, known: ReadonlyMap<string, CommunityAlias>): CommunityAlias[] {
  const spec = env.root.object('spec');
  if (!spec) return [];
  spec.only(['communities']);
  const out: CommunityAlias[] = [];
  for (const c of spec.objectList('communities')) {
    c.only(['name', 'value']);
    const name = c.string('name');
    const value = c.string('value');
    if (name === undefined) c.error('name', 'required');
    if (value === undefined) c.error('value', 'required');
    if (name === undefined || value === undefined) continue;
    if (name.includes(':')) {
      c.error('name', `"${name}" must not contain ':' (it would read as a community value)`);
      continue;
    }
    const prior = known.get(name) ?? out.find((a) => a.name === name);
    if (prior) {
      c.error('name', `alias "${name}" is already defined in Community ${prior.definedIn}`);
      continue;
    }
    const parsed = parseCommunity(value);
    if (!parsed.ok) c.error('value', parsed.reason);
    else out.push({ name, value: parsed.value, definedIn: env.meta.name });
  }
  return hasHardErrors(env) ? [] : out;
}

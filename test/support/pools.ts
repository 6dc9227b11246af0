/** Builds validated Pool models from compact descriptions, through src/config. */
import { parseConfig } from '../../src/config/parse.js';
import type { Pool } from '../../src/config/model.js';

export interface PoolSpec {
  addresses: string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceAllocation?: Record<string, unknown>;
}

export function poolObject(name: string, spec: PoolSpec, labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: 'herald-system', labels },
    spec,
  };
}

export function makePools(specs: Record<string, PoolSpec>): Pool[] {
  const result = parseConfig(Object.entries(specs).map(([name, spec]) => poolObject(name, spec)));
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.message).join('; '));
  return [...result.config.pools.values()];
}

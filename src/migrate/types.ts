/** What the MetalLB → Herald mapping returns: Herald objects plus every field it could not carry over. */

/** A Herald (or core v1) object written by the import, plain JSON. */
export interface OutputObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  readonly spec?: Record<string, unknown>;
  readonly [field: string]: unknown;
}

/**
 * One finding about an input object. `unsupported`: a field (or the whole object, field '')
 * was left out because Herald cannot honour it; `note`: imported, but something needs the
 * user's attention (a Secret to copy, a name the import chose).
 */
export interface MigrateIssue {
  readonly severity: 'unsupported' | 'note';
  /** Position of the input object. */
  readonly input: number;
  /** `Kind namespace/name` of the input object. */
  readonly object: string;
  /** Path inside the input object, e.g. `spec.vrf`; '' for the whole object. */
  readonly field: string;
  readonly reason: string;
}

export interface MigrateResult {
  readonly objects: readonly OutputObject[];
  readonly issues: readonly MigrateIssue[];
  /** Inputs that are not MetalLB configuration (Services, Deployments, …), left alone. */
  readonly ignored: number;
}

export interface MigrateOptions {
  /** Herald's namespace: every object is written there. */
  readonly namespace: string;
}

/** Collects issues for one input object. */
export class IssueSink {
  readonly issues: MigrateIssue[] = [];
  constructor(
    readonly input: number,
    readonly object: string,
  ) {}

  unsupported(field: string, reason: string): void {
    this.issues.push({ severity: 'unsupported', input: this.input, object: this.object, field, reason });
  }

  note(field: string, reason: string): void {
    this.issues.push({ severity: 'note', input: this.input, object: this.object, field, reason });
  }
}

/** Wire shapes shared by every Herald kind (a subset of Kubernetes' ObjectMeta and friends). */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** The status most configuration kinds carry. */
export interface ConditionsStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

/** Every Herald object: apiVersion herald.dev/v1beta1, a kind, metadata, spec and status. */
export interface HeraldObject<K extends string, S, T> {
  apiVersion: 'herald.dev/v1beta1';
  kind: K;
  metadata: ObjectMeta;
  spec?: S;
  status?: T;
}

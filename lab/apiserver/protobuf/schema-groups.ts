/**
 * The subset of k8s.io/api's apps/v1, discovery/v1, rbac/v1, policy/v1, coordination/v1 and
 * authorization/v1 (the access reviews `kubectl auth can-i` sends) protobuf schemas the embedded API server decodes, with the field numbers of k8s.io/api's
 * generated.proto files.
 */
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const INTSTR = 'k8s.io.apimachinery.pkg.util.intstr.IntOrString';

export const APPS_PROTO = `
syntax = "proto2";
package k8s.io.api.apps.v1;
message RollingUpdateDeployment { optional ${INTSTR} maxUnavailable = 1; optional ${INTSTR} maxSurge = 2; }
message DeploymentStrategy { optional string type = 1; optional RollingUpdateDeployment rollingUpdate = 2; }
message DeploymentSpec {
  optional int32 replicas = 1; optional ${META}.LabelSelector selector = 2; optional k8s.io.api.core.v1.PodTemplateSpec template = 3;
  optional DeploymentStrategy strategy = 4; optional int32 minReadySeconds = 5; optional int32 revisionHistoryLimit = 6; optional bool paused = 7;
  optional int32 progressDeadlineSeconds = 9;
}
message DeploymentCondition {
  optional string type = 1; optional string status = 2; optional string reason = 4; optional string message = 5;
  optional ${META}.Time lastUpdateTime = 6; optional ${META}.Time lastTransitionTime = 7;
}
message DeploymentStatus {
  optional int64 observedGeneration = 1; optional int32 replicas = 2; optional int32 updatedReplicas = 3; optional int32 availableReplicas = 4;
  optional int32 unavailableReplicas = 5; repeated DeploymentCondition conditions = 6; optional int32 readyReplicas = 7; optional int32 collisionCount = 8;
  optional int32 terminatingReplicas = 9;
}
message Deployment { optional ${META}.ObjectMeta metadata = 1; optional DeploymentSpec spec = 2; optional DeploymentStatus status = 3; }
message ReplicaSetSpec {
  optional int32 replicas = 1; optional ${META}.LabelSelector selector = 2; optional k8s.io.api.core.v1.PodTemplateSpec template = 3; optional int32 minReadySeconds = 4;
}
message ReplicaSetCondition {
  optional string type = 1; optional string status = 2; optional ${META}.Time lastTransitionTime = 3; optional string reason = 4; optional string message = 5;
}
message ReplicaSetStatus {
  optional int32 replicas = 1; optional int32 fullyLabeledReplicas = 2; optional int64 observedGeneration = 3; optional int32 readyReplicas = 4;
  optional int32 availableReplicas = 5; repeated ReplicaSetCondition conditions = 6; optional int32 terminatingReplicas = 7;
}
message ReplicaSet { optional ${META}.ObjectMeta metadata = 1; optional ReplicaSetSpec spec = 2; optional ReplicaSetStatus status = 3; }
`;

export const DISCOVERY_PROTO = `
syntax = "proto2";
package k8s.io.api.discovery.v1;
message EndpointConditions { optional bool ready = 1; optional bool serving = 2; optional bool terminating = 3; }
message ForZone { optional string name = 1; }
message ForNode { optional string name = 1; }
message EndpointHints { repeated ForZone forZones = 1; repeated ForNode forNodes = 2; }
message Endpoint {
  repeated string addresses = 1; optional EndpointConditions conditions = 2; optional string hostname = 3;
  optional k8s.io.api.core.v1.ObjectReference targetRef = 4; map<string, string> deprecatedTopology = 5; optional string nodeName = 6;
  optional string zone = 7; optional EndpointHints hints = 8;
}
message EndpointPort { optional string name = 1; optional string protocol = 2; optional int32 port = 3; optional string appProtocol = 4; }
message EndpointSlice { optional ${META}.ObjectMeta metadata = 1; repeated Endpoint endpoints = 2; repeated EndpointPort ports = 3; optional string addressType = 4; }
`;

export const RBAC_PROTO = `
syntax = "proto2";
package k8s.io.api.rbac.v1;
message PolicyRule {
  repeated string verbs = 1; repeated string apiGroups = 2; repeated string resources = 3; repeated string resourceNames = 4; repeated string nonResourceURLs = 5;
}
message AggregationRule { repeated ${META}.LabelSelector clusterRoleSelectors = 1; }
message Role { optional ${META}.ObjectMeta metadata = 1; repeated PolicyRule rules = 2; }
message ClusterRole { optional ${META}.ObjectMeta metadata = 1; repeated PolicyRule rules = 2; optional AggregationRule aggregationRule = 3; }
message Subject { optional string kind = 1; optional string apiGroup = 2; optional string name = 3; optional string namespace = 4; }
message RoleRef { optional string apiGroup = 1; optional string kind = 2; optional string name = 3; }
message RoleBinding { optional ${META}.ObjectMeta metadata = 1; repeated Subject subjects = 2; optional RoleRef roleRef = 3; }
message ClusterRoleBinding { optional ${META}.ObjectMeta metadata = 1; repeated Subject subjects = 2; optional RoleRef roleRef = 3; }
`;

export const POLICY_PROTO = `
syntax = "proto2";
package k8s.io.api.policy.v1;
message PodDisruptionBudgetSpec {
  optional ${INTSTR} minAvailable = 1; optional ${META}.LabelSelector selector = 2; optional ${INTSTR} maxUnavailable = 3;
  optional string unhealthyPodEvictionPolicy = 4;
}
message PodDisruptionBudgetStatus {
  optional int64 observedGeneration = 1; map<string, ${META}.Time> disruptedPods = 2; optional int32 disruptionsAllowed = 3; optional int32 currentHealthy = 4;
  optional int32 desiredHealthy = 5; optional int32 expectedPods = 6; repeated ${META}.Condition conditions = 7;
}
message PodDisruptionBudget { optional ${META}.ObjectMeta metadata = 1; optional PodDisruptionBudgetSpec spec = 2; optional PodDisruptionBudgetStatus status = 3; }
`;

export const COORDINATION_PROTO = `
syntax = "proto2";
package k8s.io.api.coordination.v1;
message LeaseSpec {
  optional string holderIdentity = 1; optional int32 leaseDurationSeconds = 2; optional ${META}.MicroTime acquireTime = 3;
  optional ${META}.MicroTime renewTime = 4; optional int32 leaseTransitions = 5; optional string strategy = 6; optional string preferredHolder = 7;
}
message Lease { optional ${META}.ObjectMeta metadata = 1; optional LeaseSpec spec = 2; }
`;

export const AUTHORIZATION_PROTO = `
syntax = "proto2";
package k8s.io.api.authorization.v1;
message FieldSelectorAttributes { optional string rawSelector = 1; }
message LabelSelectorAttributes { optional string rawSelector = 1; }
message ResourceAttributes {
  optional string namespace = 1; optional string verb = 2; optional string group = 3; optional string version = 4; optional string resource = 5;
  optional string subresource = 6; optional string name = 7; optional FieldSelectorAttributes fieldSelector = 8; optional LabelSelectorAttributes labelSelector = 9;
}
message NonResourceAttributes { optional string path = 1; optional string verb = 2; }
message ExtraValue { repeated string items = 1; }
message SubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1; optional NonResourceAttributes nonResourceAttributes = 2; optional string user = 3;
  repeated string groups = 4; map<string, ExtraValue> extra = 5; optional string uid = 6;
}
message SelfSubjectAccessReviewSpec { optional ResourceAttributes resourceAttributes = 1; optional NonResourceAttributes nonResourceAttributes = 2; }
message SubjectAccessReviewStatus { optional bool allowed = 1; optional string reason = 2; optional string evaluationError = 3; optional bool denied = 4; }
message SubjectAccessReview { optional ${META}.ObjectMeta metadata = 1; optional SubjectAccessReviewSpec spec = 2; optional SubjectAccessReviewStatus status = 3; }
message LocalSubjectAccessReview { optional ${META}.ObjectMeta metadata = 1; optional SubjectAccessReviewSpec spec = 2; optional SubjectAccessReviewStatus status = 3; }
message SelfSubjectAccessReview { optional ${META}.ObjectMeta metadata = 1; optional SelfSubjectAccessReviewSpec spec = 2; optional SubjectAccessReviewStatus status = 3; }
`;

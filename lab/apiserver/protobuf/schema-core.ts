/**
 * The subset of k8s.io/api core/v1's protobuf schema the embedded API server decodes
 * (Namespace, Service, ConfigMap, Secret, ServiceAccount, Pod and the pod template), with the
 * field numbers of k8s.io/api's generated.proto. Rarely used Pod fields (affinity, volume
 * plugins other than hostPath/emptyDir/secret/configMap/PVC, lifecycle hooks, ephemeral
 * containers) are left out: the decoder refuses them by number rather than dropping them.
 */
export const CORE_PROTO = `
syntax = "proto2";
package k8s.io.api.core.v1;

message NamespaceSpec { repeated string finalizers = 1; }
message NamespaceCondition {
  optional string type = 1; optional string status = 2; optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 4;
  optional string reason = 5; optional string message = 6;
}
message NamespaceStatus { optional string phase = 1; repeated NamespaceCondition conditions = 2; }
message Namespace { optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional NamespaceSpec spec = 2; optional NamespaceStatus status = 3; }

message ServicePort {
  optional string name = 1; optional string protocol = 2; optional int32 port = 3;
  optional k8s.io.apimachinery.pkg.util.intstr.IntOrString targetPort = 4; optional int32 nodePort = 5; optional string appProtocol = 6;
}
message ClientIPConfig { optional int32 timeoutSeconds = 1; }
message SessionAffinityConfig { optional ClientIPConfig clientIP = 1; }
message ServiceSpec {
  repeated ServicePort ports = 1; map<string, string> selector = 2; optional string clusterIP = 3; optional string type = 4;
  repeated string externalIPs = 5; optional string sessionAffinity = 7; optional string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9; optional string externalName = 10; optional string externalTrafficPolicy = 11;
  optional int32 healthCheckNodePort = 12; optional bool publishNotReadyAddresses = 13; optional SessionAffinityConfig sessionAffinityConfig = 14;
  optional string ipFamilyPolicy = 17; repeated string clusterIPs = 18; repeated string ipFamilies = 19;
  optional bool allocateLoadBalancerNodePorts = 20; optional string loadBalancerClass = 21; optional string internalTrafficPolicy = 22;
  optional string trafficDistribution = 23;
}
message PortStatus { optional int32 port = 1; optional string protocol = 2; optional string error = 3; }
message LoadBalancerIngress { optional string ip = 1; optional string hostname = 2; optional string ipMode = 3; repeated PortStatus ports = 4; }
message LoadBalancerStatus { repeated LoadBalancerIngress ingress = 1; }
message ServiceStatus { optional LoadBalancerStatus loadBalancer = 1; repeated k8s.io.apimachinery.pkg.apis.meta.v1.Condition conditions = 2; }
message Service { optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional ServiceSpec spec = 2; optional ServiceStatus status = 3; }

message ConfigMap {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; map<string, string> data = 2; map<string, bytes> binaryData = 3;
  optional bool immutable = 4;
}
message Secret {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; map<string, bytes> data = 2; optional string type = 3;
  map<string, string> stringData = 4; optional bool immutable = 5;
}
message ObjectReference {
  optional string kind = 1; optional string namespace = 2; optional string name = 3; optional string uid = 4;
  optional string apiVersion = 5; optional string resourceVersion = 6; optional string fieldPath = 7;
}
message LocalObjectReference { optional string name = 1; }
message ServiceAccount {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; repeated ObjectReference secrets = 2;
  repeated LocalObjectReference imagePullSecrets = 3; optional bool automountServiceAccountToken = 4;
}

message ContainerPort { optional string name = 1; optional int32 hostPort = 2; optional int32 containerPort = 3; optional string protocol = 4; optional string hostIP = 5; }
message ObjectFieldSelector { optional string apiVersion = 1; optional string fieldPath = 2; }
message ResourceFieldSelector { optional string containerName = 1; optional string resource = 2; optional k8s.io.apimachinery.pkg.api.resource.Quantity divisor = 3; }
message ConfigMapKeySelector { optional LocalObjectReference localObjectReference = 1; optional string key = 2; optional bool optional = 3; }
message SecretKeySelector { optional LocalObjectReference localObjectReference = 1; optional string key = 2; optional bool optional = 3; }
message EnvVarSource {
  optional ObjectFieldSelector fieldRef = 1; optional ResourceFieldSelector resourceFieldRef = 2;
  optional ConfigMapKeySelector configMapKeyRef = 3; optional SecretKeySelector secretKeyRef = 4;
}
message EnvVar { optional string name = 1; optional string value = 2; optional EnvVarSource valueFrom = 3; }
message ConfigMapEnvSource { optional LocalObjectReference localObjectReference = 1; optional bool optional = 2; }
message SecretEnvSource { optional LocalObjectReference localObjectReference = 1; optional bool optional = 2; }
message EnvFromSource { optional string prefix = 1; optional ConfigMapEnvSource configMapRef = 2; optional SecretEnvSource secretRef = 3; }
message ResourceRequirements {
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> limits = 1; map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> requests = 2;
}
message VolumeMount {
  optional string name = 1; optional bool readOnly = 2; optional string mountPath = 3; optional string subPath = 4;
  optional string mountPropagation = 5; optional string subPathExpr = 6; optional string recursiveReadOnly = 7;
}
message ExecAction { repeated string command = 1; }
message HTTPHeader { optional string name = 1; optional string value = 2; }
message HTTPGetAction {
  optional string path = 1; optional k8s.io.apimachinery.pkg.util.intstr.IntOrString port = 2; optional string host = 3;
  optional string scheme = 4; repeated HTTPHeader httpHeaders = 5;
}
message TCPSocketAction { optional k8s.io.apimachinery.pkg.util.intstr.IntOrString port = 1; optional string host = 2; }
message ProbeHandler { optional ExecAction exec = 1; optional HTTPGetAction httpGet = 2; optional TCPSocketAction tcpSocket = 3; }
message Probe {
  optional ProbeHandler handler = 1; optional int32 initialDelaySeconds = 2; optional int32 timeoutSeconds = 3; optional int32 periodSeconds = 4;
  optional int32 successThreshold = 5; optional int32 failureThreshold = 6; optional int64 terminationGracePeriodSeconds = 7;
}
message Capabilities { repeated string add = 1; repeated string drop = 2; }
message SeccompProfile { optional string type = 1; optional string localhostProfile = 2; }
message SecurityContext {
  optional Capabilities capabilities = 1; optional bool privileged = 2; optional int64 runAsUser = 4; optional bool runAsNonRoot = 5;
  optional bool readOnlyRootFilesystem = 6; optional bool allowPrivilegeEscalation = 7; optional int64 runAsGroup = 8;
  optional string procMount = 9; optional SeccompProfile seccompProfile = 11;
}
message Container {
  optional string name = 1; optional string image = 2; repeated string command = 3; repeated string args = 4; optional string workingDir = 5;
  repeated ContainerPort ports = 6; repeated EnvVar env = 7; optional ResourceRequirements resources = 8; repeated VolumeMount volumeMounts = 9;
  optional Probe livenessProbe = 10; optional Probe readinessProbe = 11; optional string terminationMessagePath = 13;
  optional string imagePullPolicy = 14; optional SecurityContext securityContext = 15; optional bool stdin = 16; optional bool stdinOnce = 17;
  optional bool tty = 18; repeated EnvFromSource envFrom = 19; optional string terminationMessagePolicy = 20; optional Probe startupProbe = 22;
  optional string restartPolicy = 24;
}
message HostPathVolumeSource { optional string path = 1; optional string type = 2; }
message EmptyDirVolumeSource { optional string medium = 1; optional k8s.io.apimachinery.pkg.api.resource.Quantity sizeLimit = 2; }
message KeyToPath { optional string key = 1; optional string path = 2; optional int32 mode = 3; }
message SecretVolumeSource { optional string secretName = 1; repeated KeyToPath items = 2; optional int32 defaultMode = 3; optional bool optional = 4; }
message ConfigMapVolumeSource {
  optional LocalObjectReference localObjectReference = 1; repeated KeyToPath items = 2; optional int32 defaultMode = 3; optional bool optional = 4;
}
message PersistentVolumeClaimVolumeSource { optional string claimName = 1; optional bool readOnly = 2; }
message VolumeSource {
  optional HostPathVolumeSource hostPath = 1; optional EmptyDirVolumeSource emptyDir = 2; optional SecretVolumeSource secret = 6;
  optional PersistentVolumeClaimVolumeSource persistentVolumeClaim = 10; optional ConfigMapVolumeSource configMap = 19;
}
message Volume { optional string name = 1; optional VolumeSource volumeSource = 2; }
message PodSecurityContext {
  optional int64 runAsUser = 2; optional bool runAsNonRoot = 3; repeated int64 supplementalGroups = 4; optional int64 fsGroup = 5;
  optional int64 runAsGroup = 6; optional string fsGroupChangePolicy = 9; optional SeccompProfile seccompProfile = 10;
}
message Toleration { optional string key = 1; optional string operator = 2; optional string value = 3; optional string effect = 4; optional int64 tolerationSeconds = 5; }
message PodSpec {
  repeated Volume volumes = 1; repeated Container containers = 2; optional string restartPolicy = 3; optional int64 terminationGracePeriodSeconds = 4;
  optional int64 activeDeadlineSeconds = 5; optional string dnsPolicy = 6; map<string, string> nodeSelector = 7; optional string serviceAccountName = 8;
  optional string serviceAccount = 9; optional string nodeName = 10; optional bool hostNetwork = 11; optional bool hostPID = 12; optional bool hostIPC = 13;
  optional PodSecurityContext securityContext = 14; repeated LocalObjectReference imagePullSecrets = 15; optional string hostname = 16;
  optional string subdomain = 17; optional string schedulerName = 19; repeated Container initContainers = 20; optional bool automountServiceAccountToken = 21;
  repeated Toleration tolerations = 22; optional string priorityClassName = 24; optional int32 priority = 25; optional bool shareProcessNamespace = 27;
  optional string runtimeClassName = 29; optional bool enableServiceLinks = 30; optional string preemptionPolicy = 31;
  optional bool setHostnameAsFQDN = 35; optional bool hostUsers = 37;
}
message PodTemplateSpec { optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional PodSpec spec = 2; }
message PodCondition {
  optional string type = 1; optional string status = 2; optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastProbeTime = 3;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 4; optional string reason = 5; optional string message = 6;
  optional int64 observedGeneration = 7;
}
message PodIP { optional string ip = 1; }
message HostIP { optional string ip = 1; }
message PodStatus {
  optional string phase = 1; repeated PodCondition conditions = 2; optional string message = 3; optional string reason = 4; optional string hostIP = 5;
  optional string podIP = 6; optional k8s.io.apimachinery.pkg.apis.meta.v1.Time startTime = 7; optional string qosClass = 9;
  optional string nominatedNodeName = 11; repeated PodIP podIPs = 12; repeated HostIP hostIPs = 16; optional int64 observedGeneration = 17;
}
message Pod { optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional PodSpec spec = 2; optional PodStatus status = 3; }
`;

{{/*
Labels on every object: the two manifests/kustomization.yaml puts on everything, then the
release labels Helm charts carry (the drift test removes only these four before comparing).
*/}}
{{- define "herald.labels" -}}
app.kubernetes.io/name: herald
app.kubernetes.io/part-of: herald
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Selector labels of a component (the same as manifests/: one Herald per cluster). */}}
{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: herald
app.kubernetes.io/component: {{ . }}
{{- end }}

{{/* repository:tag of a component's image; the tag defaults to the chart's appVersion. */}}
{{- define "herald.image" -}}
{{- $img := index .root.Values .component "image" -}}
{{- printf "%s:%s" $img.repository (toString ($img.tag | default .root.Chart.AppVersion)) -}}
{{- end }}

{{/*
Pod-level scheduling values of a component (nodeSelector, tolerations, affinity,
priorityClassName, runtimeClassName, imagePullSecrets); `extraTolerations` are prepended.
*/}}
{{- define "herald.scheduling" -}}
{{- $v := index .root.Values .component -}}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $tol := concat (.extraTolerations | default list) ($v.tolerations | default list) }}
{{- with $tol }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $v.runtimeClassName }}
runtimeClassName: {{ . }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

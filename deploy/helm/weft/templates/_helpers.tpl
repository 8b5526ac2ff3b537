{{/* The image of one component: <registry>/<component>:<tag>. */}}
{{- define "weft.image" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- printf "%s/%s:%s" $root.Values.image.registry $component (default $root.Chart.AppVersion $root.Values.image.tag) -}}
{{- end -}}

{{/* Labels on every object the chart makes. */}}
{{- define "weft.labels" -}}
app.kubernetes.io/part-of: weft
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The address proxies dial for xDS and the CA (istiod's 15012 `https-dns`). */}}
{{- define "weft.xdsAddress" -}}
{{- printf "istiod.%s.svc:15012" .Release.Namespace -}}
{{- end -}}

{{- define "weft.rootNamespace" -}}
{{- default .Release.Namespace .Values.meshConfig.rootNamespace -}}
{{- end -}}

{{/* Environment from the downward API. */}}
{{- define "weft.fieldEnv" -}}
- name: {{ index . 0 }}
  valueFrom:
    fieldRef:
      fieldPath: {{ index . 1 }}
{{- end -}}

{{- define "weft.pullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
What the chart knows about each service, as the services themselves define it: the health port is the default
HEALTH_PORT of services/<name>/src/config.ts (test/helm.int.test.ts checks it; the Dockerfile's EXPOSE is
checked against the same default by test/docker-compose.int.test.ts), the group variable and the topic are
what the consumer reads; requiredEnv names the config file the service cannot start without, and singleton
marks a service of which one replica does all the work, saying why a second must not run; mqtt: the MQTT
credentials and TLS material (`mqtt`, secrets.mqttPassword); serial: the node's serial devices
(services.serial-collector.device). Not values: a port changed here without the service would point the
probes at nothing.
*/}}
{{- define "gridstream.catalog" -}}
bridge:
  healthPort: 9101
  kafka: true
  amqp: true
parser:
  healthPort: 9102
  kafka: true
  influx: true
  groupEnv: PARSER_GROUP_ID
  consumes: raw
influx-writer:
  healthPort: 9103
  kafka: true
  influx: true
  groupEnv: WRITER_GROUP_ID
  consumes: parsed
archiver:
  healthPort: 9106
  kafka: true
  s3: true
  groupEnv: ARCHIVER_GROUP_ID
  consumes: parsed
timescale-writer:
  healthPort: 9110
  kafka: true
  postgresql: true
  groupEnv: WRITER_GROUP_ID
  consumes: parsed
opentsdb-writer:
  healthPort: 9111
  kafka: true
  opentsdb: true
  groupEnv: WRITER_GROUP_ID
  consumes: parsed
modbus-collector:
  healthPort: 9104
  kafka: true
  requiredEnv: MODBUS_CONFIG
opcua-collector:
  healthPort: 9105
  kafka: true
  requiredEnv: OPCUA_CONFIG
serial-collector:
  healthPort: 9112
  kafka: true
  requiredEnv: SERIAL_CONFIG
  serial: true
  singleton: a serial port is read by one process; a second pod would contend for the same device
mqtt-collector:
  healthPort: 9113
  kafka: true
  requiredEnv: MQTT_CONFIG
  mqtt: true
  singleton: the broker file's fixed clientId is one session at the broker; a second replica would take it over, back and forth
forecaster:
  healthPort: 9109
  kafka: true
  influx: true
  requiredEnv: FORECAST_CONFIG
  singleton: one replica serves every series; a second would write every forecast and raise every early warning twice
console:
  healthPort: 9107
  kafka: true
  s3: true
  console: true
simulator:
  healthPort: 9108
  amqp: true
{{- end -}}

{{- define "gridstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name; every object is <fullname>-<service> or <fullname>[-<what>]. */}}
{{- define "gridstream.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
<fullname>-<service>, at most 63 characters (a Service name is a DNS label). The service name is kept whole
and the release part shortened, so two services never end up with the same name.
*/}}
{{- define "gridstream.componentName" -}}
{{- $full := include "gridstream.fullname" .root -}}
{{- printf "%s-%s" ($full | trunc (int (sub 62 (len .name))) | trimSuffix "-") .name -}}
{{- end -}}

{{- define "gridstream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "gridstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gridstream
{{- end -}}

{{/* Selector labels of one service's pods: stable across upgrades (a Deployment's selector is immutable). */}}
{{- define "gridstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gridstream.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "gridstream.componentLabels" -}}
{{ include "gridstream.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "gridstream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gridstream.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "gridstream.image" -}}
{{- $root := .root -}}
{{- $tag := default $root.Chart.AppVersion $root.Values.image.tag -}}
{{- $repo := printf "%s/%s" (trimSuffix "/" $root.Values.image.repository) .name -}}
{{- if $root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $root.Values.image.registry) $repo $tag -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret holding the credentials: the existing one, or the chart's. */}}
{{- define "gridstream.secretName" -}}
{{- default (printf "%s-credentials" (include "gridstream.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
Values of the Secret the chart creates: the non-empty secrets.* values, plus a console password and session
secret generated on install. On an upgrade the generated ones are read back from the Secret in the cluster
(lookup), so they do not change with every `helm upgrade`; `helm template` has no cluster and generates.
*/}}
{{- define "gridstream.secretData" -}}
{{- $s := .Values.secrets -}}
{{- $existing := (lookup "v1" "Secret" .Release.Namespace (printf "%s-credentials" (include "gridstream.fullname" .))) | default dict -}}
{{- $old := $existing.data | default dict -}}
{{- $data := dict -}}
{{- range $field, $key := $s.keys -}}
{{- $value := index $s $field -}}
{{- if $value -}}
{{- $_ := set $data $key ($value | toString) -}}
{{- end -}}
{{- end -}}
{{- $console := index .Values.services "console" -}}
{{- if $console.enabled -}}
{{- if and (not $s.consolePassword) (not $s.consoleToken) -}}
{{- $prev := index $old $s.keys.consolePassword -}}
{{- $_ := set $data $s.keys.consolePassword (ternary (b64dec (toString $prev)) (randAlphaNum 24) (not (empty $prev))) -}}
{{- end -}}
{{- if not $s.consoleSessionSecret -}}
{{- $prev := index $old $s.keys.consoleSessionSecret -}}
{{- $_ := set $data $s.keys.consoleSessionSecret (ternary (b64dec (toString $prev)) (randAlphaNum 48) (not (empty $prev))) -}}
{{- end -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/*
One env entry reading a credential from the Secret. With the chart's Secret only the keys it holds are
referenced; with existingSecret every key that may matter, optional, so a key the Secret lacks leaves the
variable unset (the service then reports what is missing, by variable name, and exits 78).
*/}}
{{- define "gridstream.secretEnv" -}}
{{- $root := .root -}}
{{- $key := index $root.Values.secrets.keys .field -}}
{{- if or $root.Values.secrets.existingSecret (hasKey .data $key) }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ include "gridstream.secretName" $root }}
      key: {{ $key }}
      optional: true
{{- end -}}
{{- end -}}

{{/* The non-secret Kafka variables, shared by the services and the topics job. */}}
{{- define "gridstream.kafkaEnv" -}}
{{- $k := .Values.kafka -}}
KAFKA_BROKERS: {{ $k.bootstrapServers | quote }}
KAFKA_TOPIC_RAW: {{ $k.topics.raw | quote }}
KAFKA_TOPIC_PARSED: {{ $k.topics.parsed | quote }}
KAFKA_TOPIC_DLQ: {{ $k.topics.dlq | quote }}
KAFKA_TOPIC_ALARMS: {{ $k.topics.alarms | quote }}
KAFKA_TOPIC_PARTITIONS: {{ $k.partitions | int64 | quote }}
KAFKA_REPLICATION_FACTOR: {{ $k.replicationFactor | int64 | quote }}
KAFKA_CREATE_TOPICS: {{ $k.createTopics | quote }}
KAFKA_SSL: {{ $k.tls.enabled | quote }}
{{- if and $k.tls.enabled $k.tls.caSecret.name }}
KAFKA_SSL_CA_FILE: /etc/gridstream-kafka/ca/{{ $k.tls.caSecret.key }}
{{- end }}
{{- if and $k.tls.enabled $k.tls.clientSecret.name }}
KAFKA_SSL_CERT_FILE: /etc/gridstream-kafka/client/{{ $k.tls.clientSecret.certKey }}
KAFKA_SSL_KEY_FILE: /etc/gridstream-kafka/client/{{ $k.tls.clientSecret.keyKey }}
{{- end }}
{{- if $k.sasl.mechanism }}
KAFKA_SASL_MECHANISM: {{ $k.sasl.mechanism | quote }}
KAFKA_SASL_USERNAME: {{ $k.sasl.username | quote }}
{{- end }}
{{- end -}}

{{/* Kafka credentials as env entries (SASL password, TLS key passphrase). */}}
{{- define "gridstream.kafkaSecretEnv" -}}
{{- $root := .root -}}
{{- $k := $root.Values.kafka -}}
{{- if $k.sasl.mechanism -}}
{{- if $k.sasl.passwordSecret.name }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $k.sasl.passwordSecret.name }}
      key: {{ $k.sasl.passwordSecret.key }}
{{- else -}}
{{ include "gridstream.secretEnv" (dict "root" $root "data" .data "field" "kafkaSaslPassword" "env" "KAFKA_SASL_PASSWORD") }}
{{- end -}}
{{- end -}}
{{- if and $k.tls.enabled $k.tls.clientSecret.name -}}
{{ include "gridstream.secretEnv" (dict "root" $root "data" .data "field" "kafkaSslKeyPassword" "env" "KAFKA_SSL_KEY_PASSWORD") }}
{{- end -}}
{{- end -}}

{{/* Volumes with the Kafka TLS material, and their mounts. */}}
{{- define "gridstream.kafkaVolumes" -}}
{{- $k := .Values.kafka -}}
{{- if and $k.tls.enabled $k.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ $k.tls.caSecret.name }}
    items:
      - key: {{ $k.tls.caSecret.key }}
        path: {{ $k.tls.caSecret.key }}
{{- end }}
{{- if and $k.tls.enabled $k.tls.clientSecret.name }}
- name: kafka-client
  secret:
    secretName: {{ $k.tls.clientSecret.name }}
    items:
      - key: {{ $k.tls.clientSecret.certKey }}
        path: {{ $k.tls.clientSecret.certKey }}
      - key: {{ $k.tls.clientSecret.keyKey }}
        path: {{ $k.tls.clientSecret.keyKey }}
{{- end }}
{{- end -}}

{{- define "gridstream.kafkaVolumeMounts" -}}
{{- $k := .Values.kafka -}}
{{- if and $k.tls.enabled $k.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/gridstream-kafka/ca
  readOnly: true
{{- end }}
{{- if and $k.tls.enabled $k.tls.clientSecret.name }}
- name: kafka-client
  mountPath: /etc/gridstream-kafka/client
  readOnly: true
{{- end }}
{{- end -}}

{{/* ConfigMap key of a file under /etc/gridstream: keys may not hold "/", so a digest of the path. */}}
{{- define "gridstream.fileKey" -}}
{{- printf "f-%s" (sha256sum . | trunc 16) -}}
{{- end -}}

{{/*
The non-secret environment of one service (its ConfigMap), as a YAML map: what every service gets, what its
kind of work needs (Kafka, RabbitMQ, InfluxDB, S3), then the service's own `env`, which wins.
*/}}
{{- define "gridstream.serviceEnv" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $cat := .cat -}}
{{- $svc := .svc -}}
{{- $env := dict -}}
{{- $_ := set $env "LOG_LEVEL" $v.logLevel -}}
{{- /* The services bind loopback by default, which hides the probes and /metrics from the kubelet. */ -}}
{{- $_ := set $env "HEALTH_HOST" "0.0.0.0" -}}
{{- $_ := set $env "HEALTH_PORT" (toString $cat.healthPort) -}}
{{- $_ := set $env "SHUTDOWN_TIMEOUT_MS" (toString (int64 $v.shutdownTimeoutMs)) -}}
{{- /* The root filesystem is read-only: anything that writes under $HOME (DuckDB's extension folder) gets the /tmp emptyDir. */ -}}
{{- $_ := set $env "HOME" "/tmp" -}}
{{- with (default $v.nodeOptions $svc.nodeOptions) }}{{ $_ := set $env "NODE_OPTIONS" . }}{{ end -}}
{{- if $v.metrics.influxUrl -}}
{{- $_ := set $env "METRICS_INFLUX_URL" $v.metrics.influxUrl -}}
{{- $_ := set $env "METRICS_INFLUX_DB" $v.metrics.influxDatabase -}}
{{- with $v.metrics.influxUsername }}{{ $_ := set $env "METRICS_INFLUX_USERNAME" . }}{{ end -}}
{{- end -}}
{{- if $cat.kafka -}}
{{- $env = merge $env (include "gridstream.kafkaEnv" $root | fromYaml) -}}
{{- end -}}
{{- if $cat.amqp -}}
{{- $a := $v.amqp -}}
{{- $_ := set $env "AMQP_URL" $a.url -}}
{{- with $a.username }}{{ $_ := set $env "AMQP_USERNAME" . }}{{ end -}}
{{- $_ := set $env "AMQP_EXCHANGE" $a.exchange -}}
{{- $_ := set $env "AMQP_EXCHANGE_TYPE" $a.exchangeType -}}
{{- $_ := set $env "AMQP_ROUTING_KEY" $a.routingKey -}}
{{- $_ := set $env "AMQP_QUEUE" $a.queue -}}
{{- $_ := set $env "AMQP_QUEUE_TYPE" $a.queueType -}}
{{- if $a.tls.caSecret.name }}{{ $_ := set $env "AMQP_TLS_CA_FILE" (printf "/etc/gridstream-amqp/ca/%s" $a.tls.caSecret.key) }}{{ end -}}
{{- if $a.tls.clientSecret.name -}}
{{- $_ := set $env "AMQP_TLS_CERT_FILE" (printf "/etc/gridstream-amqp/client/%s" $a.tls.clientSecret.certKey) -}}
{{- $_ := set $env "AMQP_TLS_KEY_FILE" (printf "/etc/gridstream-amqp/client/%s" $a.tls.clientSecret.keyKey) -}}
{{- end -}}
{{- with $a.tls.serverName }}{{ $_ := set $env "AMQP_TLS_SERVERNAME" . }}{{ end -}}
{{- end -}}
{{- if $cat.influx -}}
{{- $i := $v.influxdb -}}
{{- $_ := set $env "INFLUX_URL" $i.url -}}
{{- $_ := set $env "INFLUX_API" $i.api -}}
{{- $_ := set $env "INFLUX_DATABASE" $i.database -}}
{{- with $i.retentionPolicy }}{{ $_ := set $env "INFLUX_RETENTION_POLICY" . }}{{ end -}}
{{- with $i.username }}{{ $_ := set $env "INFLUX_USERNAME" . }}{{ end -}}
{{- with $i.org }}{{ $_ := set $env "INFLUX_ORG" . }}{{ end -}}
{{- with $i.bucket }}{{ $_ := set $env "INFLUX_BUCKET" . }}{{ end -}}
{{- end -}}
{{- if $cat.postgresql -}}
{{- $p := $v.postgresql -}}
{{- $_ := set $env "PG_HOST" $p.host -}}
{{- $_ := set $env "PG_PORT" (toString (int64 $p.port)) -}}
{{- $_ := set $env "PG_DATABASE" $p.database -}}
{{- $_ := set $env "PG_USER" $p.user -}}
{{- $_ := set $env "PG_SSL" $p.ssl -}}
{{- $_ := set $env "PG_SCHEMA" $p.schema -}}
{{- if $p.caSecret.name }}{{ $_ := set $env "PG_SSL_CA_FILE" (printf "/etc/gridstream-pg/ca/%s" $p.caSecret.key) }}{{ end -}}
{{- end -}}
{{- if $cat.opentsdb -}}
{{- $_ := set $env "OPENTSDB_URL" $v.opentsdb.url -}}
{{- with $v.opentsdb.username }}{{ $_ := set $env "OPENTSDB_USERNAME" . }}{{ end -}}
{{- end -}}
{{- if $cat.s3 -}}
{{- $s3 := $v.archive.s3 -}}
{{- $_ := set $env "ARCHIVE_S3_BUCKET" $s3.bucket -}}
{{- with $s3.prefix }}{{ $_ := set $env "ARCHIVE_S3_PREFIX" . }}{{ end -}}
{{- with $s3.endpoint }}{{ $_ := set $env "ARCHIVE_S3_ENDPOINT" . }}{{ end -}}
{{- with $s3.region }}{{ $_ := set $env "ARCHIVE_S3_REGION" . }}{{ end -}}
{{- $_ := set $env "ARCHIVE_S3_FORCE_PATH_STYLE" (toString $s3.forcePathStyle) -}}
{{- $_ := set $env "ARCHIVE_S3_CREATE_BUCKET" (toString $s3.createBucket) -}}
{{- end -}}
{{- if eq .name "archiver" -}}
{{- /* Open files beyond DuckDB's memory and finished files waiting for upload: on the /app/.local volume. */ -}}
{{- $_ := set $env "ARCHIVE_SPOOL_DIR" "/app/.local/spool" -}}
{{- end -}}
{{- if eq .name "forecaster" -}}
{{- /* The saved models, on the /app/.local volume: a restarted pod forecasts with them at once. */ -}}
{{- $_ := set $env "FORECAST_MODEL_DIR" "/app/.local/forecast-models" -}}
{{- end -}}
{{- if $cat.groupEnv -}}
{{- $_ := set $env $cat.groupEnv $svc.groupId -}}
{{- end -}}
{{- if $cat.console -}}
{{- $_ := set $env "CONSOLE_HOST" "0.0.0.0" -}}
{{- $_ := set $env "CONSOLE_PORT" "8080" -}}
{{- $polled := list -}}
{{- $catalog := include "gridstream.catalog" $root | fromYaml -}}
{{- range $other, $oc := $catalog -}}
{{- if and (ne $other "console") (index $v.services $other).enabled -}}
{{- $polled = append $polled (printf "%s=http://%s:%v" $other (include "gridstream.componentName" (dict "root" $root "name" (printf "%s-metrics" $other))) $oc.healthPort) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $env "CONSOLE_SERVICES" (join "," $polled) -}}
{{- $own := include "gridstream.componentName" (dict "root" $root "name" "console") -}}
{{- $hosts := list $own (printf "%s.%s" $own $root.Release.Namespace) (printf "%s.%s.svc" $own $root.Release.Namespace) (printf "%s.%s.svc.cluster.local" $own $root.Release.Namespace) -}}
{{- $_ := set $env "CONSOLE_ALLOWED_HOSTS" (join "," (concat $hosts $svc.allowedHosts)) -}}
{{- /* The lag it shows is that of the groups the consumers here use. */ -}}
{{- $_ := set $env "PARSER_GROUP_ID" (index $v.services "parser").groupId -}}
{{- $_ := set $env "WRITER_GROUP_ID" (index $v.services "influx-writer").groupId -}}
{{- $_ := set $env "ARCHIVER_GROUP_ID" (index $v.services "archiver").groupId -}}
{{- end -}}
{{- if eq .name "simulator" -}}
{{- $_ := set $env "SIM_MODBUS_PORT" "5020" -}}
{{- $_ := set $env "SIM_MODBUS_HOST" "0.0.0.0" -}}
{{- $_ := set $env "SIM_OPCUA_PORT" "4840" -}}
{{- /* The OPC UA server advertises this name in its endpoints: the one the collector dials. */ -}}
{{- $_ := set $env "SIM_OPCUA_HOST" (include "gridstream.componentName" (dict "root" $root "name" "simulator")) -}}
{{- end -}}
{{- range $key, $value := $svc.env -}}
{{- $_ := set $env $key (toString $value) -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/*
The env entries of one service's container, as YAML list text: the pod name, the per-pod Kafka client id, the
credentials from Secrets, then the service's extraEnv.
*/}}
{{- define "gridstream.containerEnv" -}}
{{- $root := .root -}}
{{- $cat := .cat -}}
{{- $data := .data }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- if $cat.kafka }}
{{- /*
The client id the brokers log and apply quotas to: one per pod. Transactional ids are NOT per pod: the
parser's are per raw partition, <groupId>-<topic>-<partition> (docs/kubernetes.md).
*/}}
- name: KAFKA_CLIENT_ID
  value: $(POD_NAME)
{{- include "gridstream.kafkaSecretEnv" (dict "root" $root "data" $data) }}
{{- end }}
{{- if $root.Values.metrics.influxUrl }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "metricsInfluxPassword" "env" "METRICS_INFLUX_PASSWORD") }}
{{- end }}
{{- if $cat.amqp }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "amqpUrl" "env" "AMQP_URL") }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "amqpPassword" "env" "AMQP_PASSWORD") }}
{{- if $root.Values.amqp.tls.clientSecret.name }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "amqpTlsKeyPassword" "env" "AMQP_TLS_KEY_PASSWORD") }}
{{- end }}
{{- end }}
{{- if $cat.influx }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "influxPassword" "env" "INFLUX_PASSWORD") }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "influxToken" "env" "INFLUX_TOKEN") }}
{{- end }}
{{- if $cat.postgresql }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "pgPassword" "env" "PG_PASSWORD") }}
{{- end }}
{{- if $cat.opentsdb }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "opentsdbPassword" "env" "OPENTSDB_PASSWORD") }}
{{- end }}
{{- if $cat.mqtt }}
{{- /* The broker file names it: `passwordEnv: MQTT_PASSWORD` (docs/kubernetes.md); more brokers: extraEnv. */}}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "mqttPassword" "env" "MQTT_PASSWORD") }}
{{- end }}
{{- if $cat.s3 }}
{{- /* The AWS SDK's own variables (its standard chain: a role through serviceAccount.annotations works too). */}}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "awsAccessKeyId" "env" "AWS_ACCESS_KEY_ID") }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "awsSecretAccessKey" "env" "AWS_SECRET_ACCESS_KEY") }}
{{- end }}
{{- if $cat.console }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "consolePassword" "env" "CONSOLE_PASSWORD") }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "consoleToken" "env" "CONSOLE_TOKEN") }}
{{- include "gridstream.secretEnv" (dict "root" $root "data" $data "field" "consoleSessionSecret" "env" "CONSOLE_SESSION_SECRET") }}
{{- end }}
{{- with .svc.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volumes with the AMQP TLS material (an amqps:// broker), and their mounts. */}}
{{- define "gridstream.amqpVolumes" -}}
{{- $t := .Values.amqp.tls -}}
{{- if $t.caSecret.name }}
- name: amqp-ca
  secret:
    secretName: {{ $t.caSecret.name }}
    items:
      - key: {{ $t.caSecret.key }}
        path: {{ $t.caSecret.key }}
{{- end }}
{{- if $t.clientSecret.name }}
- name: amqp-client
  secret:
    secretName: {{ $t.clientSecret.name }}
    items:
      - key: {{ $t.clientSecret.certKey }}
        path: {{ $t.clientSecret.certKey }}
      - key: {{ $t.clientSecret.keyKey }}
        path: {{ $t.clientSecret.keyKey }}
{{- end }}
{{- end -}}

{{- define "gridstream.amqpVolumeMounts" -}}
{{- $t := .Values.amqp.tls -}}
{{- if $t.caSecret.name }}
- name: amqp-ca
  mountPath: /etc/gridstream-amqp/ca
  readOnly: true
{{- end }}
{{- if $t.clientSecret.name }}
- name: amqp-client
  mountPath: /etc/gridstream-amqp/client
  readOnly: true
{{- end }}
{{- end -}}

{{/* The CA of the PostgreSQL server's certificate (postgresql.caSecret, with ssl verify-full), and its mount. */}}
{{- define "gridstream.pgVolumes" -}}
{{- $c := .Values.postgresql.caSecret -}}
{{- if $c.name }}
- name: pg-ca
  secret:
    secretName: {{ $c.name }}
    items:
      - key: {{ $c.key }}
        path: {{ $c.key }}
{{- end }}
{{- end -}}

{{- define "gridstream.pgVolumeMounts" -}}
{{- if .Values.postgresql.caSecret.name }}
- name: pg-ca
  mountPath: /etc/gridstream-pg/ca
  readOnly: true
{{- end }}
{{- end -}}

{{/*
The MQTT brokers' TLS material (mqtt.tls), mounted where the broker file's tls.caFile / certFile / keyFile
point: /etc/gridstream-mqtt/ca/<key>, /etc/gridstream-mqtt/client/<certKey|keyKey>.
*/}}
{{- define "gridstream.mqttVolumes" -}}
{{- $t := .Values.mqtt.tls -}}
{{- if $t.caSecret.name }}
- name: mqtt-ca
  secret:
    secretName: {{ $t.caSecret.name }}
    items:
      - key: {{ $t.caSecret.key }}
        path: {{ $t.caSecret.key }}
{{- end }}
{{- if $t.clientSecret.name }}
- name: mqtt-client
  secret:
    secretName: {{ $t.clientSecret.name }}
    items:
      - key: {{ $t.clientSecret.certKey }}
        path: {{ $t.clientSecret.certKey }}
      - key: {{ $t.clientSecret.keyKey }}
        path: {{ $t.clientSecret.keyKey }}
{{- end }}
{{- end -}}

{{- define "gridstream.mqttVolumeMounts" -}}
{{- $t := .Values.mqtt.tls -}}
{{- if $t.caSecret.name }}
- name: mqtt-ca
  mountPath: /etc/gridstream-mqtt/ca
  readOnly: true
{{- end }}
{{- if $t.clientSecret.name }}
- name: mqtt-client
  mountPath: /etc/gridstream-mqtt/client
  readOnly: true
{{- end }}
{{- end -}}

{{/*
A container's resources: the service's, plus for the serial-collector the extended resources of the device
plugin that hands it the node's serial adapter (device.resources, e.g. squat.ai/serial: 1), as limits: the
kubelet then adds the device node and the permission to open it to the container (a hostPath of /dev/tty*
would show the node but refuse to open it without `privileged`, which the chart never sets).
*/}}
{{- define "gridstream.resources" -}}
{{- $resources := deepCopy (.svc.resources | default dict) -}}
{{- if and .cat.serial .svc.device .svc.device.resources -}}
{{- $limits := $resources.limits | default dict -}}
{{- range $name, $count := .svc.device.resources -}}
{{- $_ := set $limits $name $count -}}
{{- end -}}
{{- $_ := set $resources "limits" $limits -}}
{{- end -}}
{{- toYaml $resources -}}
{{- end -}}

{{/*
The pod's security context: the chart's, plus for the serial-collector the groups that own the node's serial
devices (device.supplementalGroups: dialout, 20 on Debian and Ubuntu nodes), so that uid 1000 opens them
without anything privileged.
*/}}
{{- define "gridstream.podSecurityContext" -}}
{{- $ctx := deepCopy .root.Values.podSecurityContext -}}
{{- if and .cat.serial .svc.device .svc.device.supplementalGroups -}}
{{- $_ := set $ctx "supplementalGroups" (concat ($ctx.supplementalGroups | default list) .svc.device.supplementalGroups | uniq) -}}
{{- end -}}
{{- toYaml $ctx -}}
{{- end -}}

/**
 * @gridstream/source — the source seam (DESIGN.md "Two seams"). Every source (modbus, opcua, serial, mqtt
 * collectors; the file importer) writes what it reads through this package, so a new source is only its
 * protocol: connect, read, turn readings into `Sample`s.
 *
 * What a source gets, the same for every kind:
 * - **the envelope**: samples.v1 messages (docs/messages.md), keyed and grouped by site, at most
 *   `maxSamplesPerMessage` samples (and 256 Ki characters of JSON, MAX_MESSAGE_CHARS) each, headers
 *   `gs-schema: samples.v1`, `gs-source` (the endpoint's URI), `gs-received-at`;
 * - **the outbox**: the disk spool of @gridstream/spool (SPOOL_DIR, SPOOL_MAX_BYTES, SPOOL_FSYNC, …,
 *   docs/reliability.md). `push` returns once the messages are appended: from then on a kill -9 loses
 *   nothing, and a Kafka outage only makes the spool grow. Sent oldest first, acks=all. Or, for input that
 *   can be read again (a file), `outbox: 'direct'`: `send` resolves once Kafka acknowledged;
 * - **message ids**: every spooled message gets `gs-message-id` `<spool id>-<sequence>`, so a batch sent
 *   again after a crash carries the same ids and the parser's window drops the copy; a source whose input
 *   has positions of its own gives its ids per push (`messageId`: the importer's `import:<file>.<mapping>:<line>`);
 * - **dead letters** of input that cannot be read (a garbage line, a checksum mismatch, a payload that is
 *   not JSON): `endpoint.deadLetter(raw, reason, message)` sends the bytes to KAFKA_TOPIC_DLQ through the
 *   same spool (so they survive outages and crashes too), stage `collector`, a reason code of
 *   DEAD_LETTER_REASONS (`unreadable`, `bad_checksum`, `incomplete`, `wrong_type`, `bad_timestamp`,
 *   `oversized`, `not_json`, …), `gs-schema` = the endpoint's `inputFormat`;
 * - **metrics**, labels `source` (the kind) and `endpoint` (its name): `gridstream_source_samples_total`,
 *   `gridstream_source_messages_total`, `gridstream_source_bad_input_total{reason}`,
 *   `gridstream_source_connected`, `gridstream_source_disconnects_total`,
 *   `gridstream_source_last_sample_timestamp_seconds`; plus the spool's `gridstream_spool_*`;
 * - **readiness**: check `producer` (Kafka connected; spool state in the detail: pending, dropped, last
 *   error) and, per endpoint, `<kind>:<name>` (ok while connected). A direct source adds no `producer`
 *   check: whoever sends waits for the acks.
 *
 * Use:
 *
 *     const source = openSource(ctx, { kind: 'serial', service: 'serial-collector' });
 *     const port = source.endpoint({ name: 'meter-1', uri: 'serial:///dev/ttyUSB0', site: 'plant-7' });
 *     port.connected(true);
 *     port.push([{ site, equipment, device, ts, fields }]);           // → telemetry.raw, via the spool
 *     port.deadLetter(lineBytes, 'bad_checksum', 'checksum 3F, line says 40');   // → telemetry.dlq
 *     port.connected(false, 'ENOENT: /dev/ttyUSB0 vanished');
 *     …
 *     await source.close(Date.now() + 10_000);   // after intake stopped: flush what Kafka takes in time
 *
 *     // The importer: no spool, its own ids, waits for Kafka.
 *     const files = openSource(ctx, { kind: 'import', service: 'cli', outbox: 'direct' }).endpoint(…);
 *     await files.send(samples, { source: 'file://a.csv', messageId: (i) => `import:…:${lines[i]}` });
 *
 * The service's schema spreads `sourceEnvShape(healthPort)` (runtime + Kafka + spool variables).
 * Kafka is connected to in the background: the source starts, reads and spools while Kafka is away.
 */
export {
  type EnvelopeOptions,
  MAX_MESSAGE_CHARS,
  type SamplesEnvelope,
  samplesMessages,
} from './envelope.js';
export {
  type DeadLetterOptions,
  type EndpointOptions,
  isSpooledDeadLetter,
  openSource,
  type PushOptions,
  type Source,
  type SourceContext,
  type SourceEndpoint,
  type SourceEnv,
  type SourceKind,
  type SourceOptions,
  type SourceOutbox,
  SPOOL_TOPIC_HEADER,
} from './source.js';
export { checkSourceEnv, sourceEnvShape } from './source-env.js';
export { SOURCE_LABELS, type SourceMetrics, sourceMetrics } from './source-metrics.js';

/**
 * The samples.v1 envelope of the source seam: `samplesMessages()` and its bound, MAX_MESSAGE_CHARS. The code
 * is in @gridstream/schema (samples-envelope.ts), beside the samples.v1 schema, so that whoever only builds or
 * counts messages need not load the Kafka client; this is the same function, the one every source uses.
 */
export {
  type EnvelopeOptions,
  MAX_MESSAGE_CHARS,
  type SamplesEnvelope,
  samplesMessages,
} from '@gridstream/schema';

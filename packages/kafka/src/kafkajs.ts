/**
 * The one place kafkajs is loaded. It installs `aborted-filter.ts` in place of kafkajs's own aborted-record
 * filter before kafkajs loads (its Batch class binds the filter when its module is first evaluated), then
 * proves the fix took on a case kafkajs gets wrong. Every value from kafkajs in this package comes from here;
 * types may still be imported from 'kafkajs' directly (they vanish at run time).
 */
import { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';
import { type AbortedTransaction, type FetchedRecord, filterAbortedRecords } from './aborted-filter.js';

const require = createRequire(import.meta.url);
const FILTER_MODULE = 'kafkajs/src/consumer/filterAbortedMessages.js';
const BATCH_MODULE = 'kafkajs/src/consumer/batch.js';
const CRC32C_MODULE = 'kafkajs/src/protocol/recordBatch/crc32C/index.js';

/** Makes `require(modulePath)` return `replacement` for every module of kafkajs loaded after this. */
function replaceModule(modulePath: string, replacement: unknown): void {
  const resolved = require.resolve(modulePath);
  if (!require.cache[resolved]) require(modulePath); // creates the cache entry, then swap what it exports
  const entry = require.cache[resolved];
  if (entry) entry.exports = replacement;
}

function installAbortedFilter(): void {
  replaceModule(
    FILTER_MODULE,
    ({
      messages,
      abortedTransactions,
    }: {
      messages: FetchedRecord[];
      abortedTransactions?: AbortedTransaction[];
    }) => filterAbortedRecords(messages, abortedTransactions),
  );
}

/**
 * kafkajs computes every produced record batch's CRC32C in JavaScript, a byte at a time: at the bridge's
 * 10 kB messages that was a large share of its CPU. @node-rs/crc32 does it natively (SSE4.2 where the CPU
 * has it) from a prebuilt binary that npm installs for the platform. Where no binary loads, kafkajs keeps
 * its own: slower, the same checksums. Checked against kafkajs's on a known input before use.
 */
function installNativeCrc32c(): 'native' | 'javascript' {
  let native: (input: Buffer) => number;
  try {
    native = (require('@node-rs/crc32') as { crc32c: (input: Buffer) => number }).crc32c;
  } catch {
    return 'javascript';
  }
  const own = require(CRC32C_MODULE) as (buffer: Buffer) => number;
  const probe = Buffer.from('gridstream crc32c self-check 123456789');
  if (native(probe) !== own(probe) || native(Buffer.from('123456789')) !== 0xe3069283) return 'javascript';
  replaceModule(CRC32C_MODULE, (buffer: Buffer) => native(buffer));
  return 'native';
}

/**
 * Two aborted transactions listed latest-started first (the order a broker uses when the earlier one was
 * aborted later): a read_committed consumer must see neither. kafkajs 2.2.4 alone returns offset 0.
 */
function assertAbortedFilterInstalled(): void {
  type BatchClass = new (
    topic: string,
    fetchedOffset: string,
    partitionData: unknown,
  ) => { messages: { offset: string }[] };
  const Batch = require(BATCH_MODULE) as BatchClass;
  const record = (offset: number, producerId: string, key: Buffer | null, control: boolean) => ({
    offset: String(offset),
    key,
    value: null,
    headers: {},
    isControlRecord: control,
    batchContext: { producerId, inTransaction: true },
  });
  const abort = Buffer.from([0, 0, 0, 0]);
  const batch = new Batch('self-check', '0', {
    partition: 0,
    highWatermark: '5',
    abortedTransactions: [
      { producerId: '2', firstOffset: '1' },
      { producerId: '1', firstOffset: '0' },
    ],
    messages: [
      record(0, '1', Buffer.from('a'), false),
      record(1, '2', Buffer.from('b'), false),
      record(2, '2', abort, true),
      record(3, '1', abort, true),
      { ...record(4, '3', Buffer.from('c'), false), batchContext: { producerId: '3', inTransaction: false } },
    ],
  });
  const offsets = batch.messages.map((m) => m.offset).join(',');
  if (offsets !== '4') {
    throw new Error(
      `kafkajs was loaded before @gridstream/kafka could fix its aborted-transaction filter (self-check saw offsets ${offsets}, expected 4): import kafkajs values only through packages/kafka/src/kafkajs.ts`,
    );
  }
}

installAbortedFilter();
/** Which CRC32C kafkajs's producers use (`native` unless no @node-rs/crc32 binary loads here). */
export const crc32cImplementation = installNativeCrc32c();
const kafkajs = require('kafkajs') as typeof KafkaJs;
assertAbortedFilterInstalled();

export const { Kafka, Partitioners, logLevel } = kafkajs;
export type Kafka = KafkaJs.Kafka;

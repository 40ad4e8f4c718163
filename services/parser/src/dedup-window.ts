import { createHash } from 'node:crypto';
import type { InMessage } from '@gridstream/kafka';
import { RAW_HEADER } from '@gridstream/schema';

/**
 * The same raw message arriving twice is the normal result of at-least-once upstream of Kafka: the bridge
 * acks RabbitMQ only after Kafka acknowledged, so a bridge killed between the two gets the message again
 * from RabbitMQ (and a gateway re-publishes what RabbitMQ did not confirm); a collector killed before it
 * marked a spooled batch as sent sends it again. InfluxDB would not mind (a point overwrites itself), the
 * archive would: the copy becomes a second row of the same reading, and a daily sum counts it twice. So
 * the parser drops a raw message whose identity it has already seen among the last `capacity` messages of
 * the same raw partition (a site's messages share a partition, so its duplicates land where the original
 * did). The window is part of the parser's transactional state: its snapshot is written in the same
 * transaction as the slice's records and offsets, so after a crash or a rebalance the new owner restores
 * exactly the window that matches the committed offset, and decides every message as the old owner did.
 */

/** Identity of a raw message: source + upstream message id, a replay's letter, or the payload's hash. */
export function messageIdentity(message: InMessage): bigint {
  const h = createHash('sha256');
  const replayedFrom = message.headers[RAW_HEADER.replayedFrom];
  const id = message.headers[RAW_HEADER.messageId];
  if (replayedFrom !== undefined) {
    // A replay is a deliberate second delivery and must not be taken for the original; replaying the same
    // letter twice, though, is a duplicate.
    h.update(`replay\u0000${replayedFrom}`);
  } else if (id !== undefined && id !== '') {
    h.update(`id\u0000${message.headers[RAW_HEADER.source] ?? ''}\u0000${id}`);
  } else {
    // No id from upstream: byte-identical payloads are the same reading sent twice.
    h.update('payload\u0000');
    if (message.value) h.update(message.value);
  }
  return h.digest().readBigUInt64BE(0);
}

const MAGIC = 0x67736477; // "gsdw"
const HEADER_BYTES = 4 + 4 + 8;

/** Message identities of the last `capacity` messages of one raw partition, oldest evicted first. */
export class DedupWindow {
  private readonly ring: BigUint64Array;
  private readonly members = new Set<bigint>();
  private start = 0;
  private count = 0;
  /** The raw offset this window is complete up to (exclusive); null before anything was committed. */
  nextOffset: bigint | null = null;

  constructor(readonly capacity: number) {
    this.ring = new BigUint64Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  has(identity: bigint): boolean {
    return this.members.has(identity);
  }

  /** Adds identities in order (after their transaction committed), evicting the oldest beyond capacity. */
  addAll(identities: readonly bigint[], nextOffset: bigint): void {
    for (const identity of identities) this.add(identity);
    this.nextOffset = nextOffset;
  }

  private add(identity: bigint): void {
    if (this.capacity === 0 || this.members.has(identity)) return;
    if (this.count === this.capacity) {
      const oldest = this.ring[this.start]!;
      this.members.delete(oldest);
      this.ring[this.start] = identity;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.ring[(this.start + this.count) % this.capacity] = identity;
      this.count++;
    }
    this.members.add(identity);
  }

  /**
   * The window as it will be once `pending` is added, as bytes: what the transaction writes to the
   * changelog (nothing in memory changes until the transaction has committed).
   */
  snapshotWith(pending: readonly bigint[], nextOffset: bigint): Buffer {
    const copy = new DedupWindow(this.capacity);
    for (let i = 0; i < this.count; i++) copy.add(this.ring[(this.start + i) % this.capacity]!);
    for (const identity of pending) copy.add(identity);
    const out = Buffer.allocUnsafe(HEADER_BYTES + copy.count * 8);
    out.writeUInt32BE(MAGIC, 0);
    out.writeUInt32BE(copy.count, 4);
    out.writeBigUInt64BE(nextOffset, 8);
    // Oldest first, from the ring's start (it may have wrapped).
    for (let i = 0; i < copy.count; i++)
      out.writeBigUInt64BE(copy.ring[(copy.start + i) % copy.capacity]!, HEADER_BYTES + i * 8);
    return out;
  }

  /** A window from a changelog snapshot; undefined for bytes that are not one (the caller starts empty). */
  static restore(bytes: Buffer, capacity: number): DedupWindow | undefined {
    if (bytes.length < HEADER_BYTES || bytes.readUInt32BE(0) !== MAGIC) return undefined;
    const count = bytes.readUInt32BE(4);
    if (bytes.length !== HEADER_BYTES + count * 8) return undefined;
    const window = new DedupWindow(capacity);
    // A smaller capacity than the snapshot's keeps its newest identities.
    for (let i = Math.max(0, count - capacity); i < count; i++)
      window.add(bytes.readBigUInt64BE(HEADER_BYTES + i * 8));
    window.nextOffset = bytes.readBigUInt64BE(8);
    return window;
  }
}

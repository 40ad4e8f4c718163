/**
 * The partition Kafka's default partitioner (Java client and kafkajs DefaultPartitioner alike) gives a
 * key: murmur2 of its UTF-8 bytes, made positive, modulo the partition count. The parser uses it to know
 * which sites' raw data it owns after a rebalance (only the owner of a site watches its expected devices:
 * two instances raising `device_missing` for the same device would be two episodes), and the transactions
 * to send each partition's records on their own (PartitionTransactions says why).
 */
export function murmur2(data: Uint8Array): number {
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const length = data.length;
  let h = seed ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const j = i * 4;
    let k = data[j]! | (data[j + 1]! << 8) | (data[j + 2]! << 16) | (data[j + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

export function partitionOfKey(key: string | Buffer, partitions: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return (murmur2(bytes) & 0x7fffffff) % partitions;
}

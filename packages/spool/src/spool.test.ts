import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@gridstream/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from './record-codec.js';
import { readSpoolFolder, Spool, type SpoolOptions } from './spool.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const dirs: string[] = [];
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-spool-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const msg = (i: number, size = 100) => ({
  key: `site-${i % 3}`,
  value: JSON.stringify({ i, pad: 'x'.repeat(size) }),
  headers: { 'gs-schema': 'samples.v1', 'gs-source': 'modbus://test' },
});
const values = (entries: { message: { value: Buffer | string } }[]) =>
  entries.map((e) => JSON.parse(e.message.value.toString()).i as number);

function open(dir: string, extra: Partial<SpoolOptions> = {}): Spool {
  return Spool.open({
    dir,
    maxBytes: 64 * 1024 * 1024,
    fsync: 'never',
    whenFull: 'drop-oldest',
    logger,
    ...extra,
  });
}

/** Everything pending, acknowledged batch by batch as a sender would. */
function drain(spool: Spool, batch = 7): number[] {
  const out: number[] = [];
  for (;;) {
    const entries = spool.peek(batch);
    if (entries.length === 0) return out;
    out.push(...values(entries));
    spool.ack(entries[entries.length - 1]!);
  }
}

describe('record codec', () => {
  it('round-trips key, value and headers (null key, empty value, unicode)', () => {
    const frame = encodeRecord(42n, { key: null, value: Buffer.alloc(0), headers: { 'gs-é': '값' } });
    const result = decodeRecord(frame, 0);
    expect(result.kind).toBe('record');
    if (result.kind !== 'record') return;
    expect(result.record.seq).toBe(42n);
    expect(result.record.message).toEqual({ key: null, value: Buffer.alloc(0), headers: { 'gs-é': '값' } });
    expect(result.end).toBe(frame.length);
  });

  it('reports a torn frame as short and a flipped byte as corrupt', () => {
    const frame = encodeRecord(1n, msg(1));
    expect(decodeRecord(frame.subarray(0, frame.length - 3), 0).kind).toBe('short');
    const flipped = Buffer.from(frame);
    flipped[frame.length - 5]! ^= 0xff;
    expect(decodeRecord(flipped, 0)).toMatchObject({ kind: 'corrupt', reason: 'checksum mismatch' });
  });
});

describe('Spool', () => {
  it('hands messages out in order, once acknowledged never again, with stable message ids', () => {
    const dir = newDir();
    const spool = open(dir);
    spool.append(Array.from({ length: 50 }, (_, i) => msg(i)));
    const first = spool.peek(10);
    expect(values(first)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Not acknowledged: the same batch again, same ids (a resend after a failed produce).
    expect(spool.peek(10).map((e) => e.message.headers!['gs-message-id'])).toEqual(
      first.map((e) => e.message.headers!['gs-message-id']),
    );
    expect(first[0]!.message.headers!['gs-message-id']).toBe(`${spool.id}-1`);
    spool.ack(first[9]!);
    expect(spool.pending).toBe(40);
    expect(drain(spool)).toEqual(Array.from({ length: 40 }, (_, i) => i + 10));
    expect(spool.pending).toBe(0);
    spool.close();
  });

  it('after a crash (no close) sends exactly what was not acknowledged, from disk, with the same ids', () => {
    const dir = newDir();
    const a = open(dir, { segmentBytes: 2_000 });
    a.append(Array.from({ length: 100 }, (_, i) => msg(i)));
    const batch = a.peek(30);
    a.ack(batch[29]!);
    const idOf31 = a.peek(1)[0]!.message.headers!['gs-message-id'];
    // kill -9: nothing closed, no lock released; the same pid opens it again (as a restart would).
    const b = open(dir, { segmentBytes: 2_000 });
    expect(b.id).toBe(a.id);
    expect(b.pending).toBe(70);
    expect(b.peek(1)[0]!.message.headers!['gs-message-id']).toBe(idOf31);
    expect(drain(b)).toEqual(Array.from({ length: 70 }, (_, i) => i + 30));
    // New appends continue the sequence.
    b.append([msg(100)]);
    expect(b.peek(1)[0]!.seq).toBe(101n);
    b.close();
  });

  it('deletes segments once everything in them is acknowledged', () => {
    const dir = newDir();
    const spool = open(dir, { segmentBytes: 1_000 });
    spool.append(Array.from({ length: 40 }, (_, i) => msg(i)));
    const segments = () => readdirSync(dir).filter((n) => n.endsWith('.seg')).length;
    expect(segments()).toBeGreaterThan(3);
    drain(spool);
    expect(segments()).toBe(1); // the active one
    spool.close();
  });

  it('cuts a torn last write on recovery and keeps every whole record before it', () => {
    const dir = newDir();
    const a = open(dir);
    a.append(Array.from({ length: 10 }, (_, i) => msg(i)));
    const seg = readdirSync(dir).find((n) => n.endsWith('.seg'))!;
    // Half a record at the end, as a power cut mid-append leaves it.
    const partial = encodeRecord(11n, msg(10)).subarray(0, 40);
    const fd = openSync(join(dir, seg), 'a');
    writeSync(fd, partial);
    closeSync(fd);
    const b = open(dir);
    expect(drain(b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    b.close();
  });

  it('counts damaged bytes in an older segment and still sends the intact records', () => {
    const dir = newDir();
    let corrupt = 0;
    const a = open(dir, { segmentBytes: 1_000 });
    a.append(Array.from({ length: 30 }, (_, i) => msg(i)));
    const segs = readdirSync(dir)
      .filter((n) => n.endsWith('.seg'))
      .sort();
    // Damage the first segment's third record.
    const first = join(dir, segs[0]!);
    const recordBytes = readFileSync(first).readUInt32BE(0) + 8;
    const fd = openSync(first, 'r+');
    writeSync(fd, Buffer.from([0xde, 0xad]), 0, 2, recordBytes * 2 + 20);
    closeSync(fd);
    const b = open(dir, { segmentBytes: 1_000, onCorrupt: (n) => (corrupt += n) });
    const got = drain(b);
    expect(corrupt).toBeGreaterThan(0);
    expect(got.slice(0, 2)).toEqual([0, 1]);
    // Everything after the damaged segment is intact.
    expect(got).toContain(29);
    expect(got).not.toContain(2);
    b.close();
  });

  it('when full, drops the oldest whole segment, counts it, and keeps the newest', () => {
    const dir = newDir();
    let dropped = 0;
    const spool = open(dir, { maxBytes: 6_000, segmentBytes: 1_500, onDropped: (n) => (dropped += n) });
    spool.append(Array.from({ length: 200 }, (_, i) => msg(i)));
    expect(dropped).toBeGreaterThan(0);
    expect(spool.droppedTotal).toBe(dropped);
    const bytes = readdirSync(dir)
      .filter((n) => n.endsWith('.seg'))
      .reduce((n, name) => n + statSync(join(dir, name)).size, 0);
    expect(bytes).toBeLessThanOrEqual(6_000);
    const kept = drain(spool);
    expect(kept.length + dropped).toBe(200);
    expect(kept.at(-1)).toBe(199);
    // What is kept is the newest, contiguous stretch.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 200 - kept.length + i));
    spool.close();
  });

  it('with drop-newest refuses what does not fit and keeps the oldest', () => {
    const dir = newDir();
    const spool = open(dir, { maxBytes: 3_000, segmentBytes: 1_000, whenFull: 'drop-newest' });
    const refused = spool.append(Array.from({ length: 100 }, (_, i) => msg(i)));
    expect(refused).toBeGreaterThan(0);
    const kept = drain(spool);
    expect(kept).toEqual(Array.from({ length: 100 - refused }, (_, i) => i));
    spool.close();
  });

  it('reads the segment it is still appending to from disk when memory does not hold the head', () => {
    const dir = newDir();
    const spool = open(dir, { memoryBytes: 1 });
    spool.append(Array.from({ length: 20 }, (_, i) => msg(i)));
    expect(drain(spool, 3)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    spool.append([msg(20)]);
    expect(drain(spool)).toEqual([20]);
    spool.close();
  });

  it('reads records larger than a read chunk from disk', () => {
    const dir = newDir();
    const a = open(dir, { memoryBytes: 1 });
    a.append([msg(0, 200_000), msg(1, 10), msg(2, 300_000)]);
    const b = open(dir, { memoryBytes: 1 });
    expect(drain(b, 1)).toEqual([0, 1, 2]);
    b.close();
  });

  it('retains delivered segments up to retainBytes, readable afterwards with what was and was not sent', () => {
    const dir = newDir();
    const spool = open(dir, { segmentBytes: 1_000, retainBytes: 1_000_000 });
    spool.append(Array.from({ length: 60 }, (_, i) => msg(i)));
    const sent = spool.peek(45);
    spool.ack(sent[44]!);
    spool.close();
    const all = [...readSpoolFolder(dir)];
    expect(all.map((r) => JSON.parse(r.message.value.toString()).i)).toEqual(
      Array.from({ length: 60 }, (_, i) => i),
    );
    expect(all.filter((r) => r.delivered)).toHaveLength(45);
    // A restart keeps the retained ones and sends only the rest.
    const again = open(dir, { segmentBytes: 1_000, retainBytes: 1_000_000 });
    expect(drain(again)).toEqual(Array.from({ length: 15 }, (_, i) => i + 45));
    again.close();
    // Within a small retention, only the newest delivered segments stay.
    const small = open(dir, { segmentBytes: 1_000, retainBytes: 2_000 });
    small.append([msg(60)]);
    drain(small);
    small.close();
    const kept = [...readSpoolFolder(dir)].filter((r) => r.delivered);
    expect(kept.length).toBeLessThan(45);
    expect(kept.at(-1)!.seq).toBe(61n);
  });

  it('refuses a folder another live process holds', () => {
    const dir = newDir();
    const spool = open(dir);
    // The lock names this pid: a second open by the same process is the restart case and allowed; a
    // foreign live pid is not.
    writeFileSync(join(dir, 'lock'), String(process.ppid));
    expect(() => open(dir)).toThrow(/in use by process/);
    spool.close();
  });
});

describe('Spool as its owner’s write-ahead log (checkpoints)', () => {
  it('hands back the newest checkpoint and everything appended after it, delivered or not', () => {
    const dir = newDir();
    let state = { taken: 0 };
    const options = { segmentBytes: 1_500, checkpoint: () => Buffer.from(JSON.stringify(state)) };
    const a = open(dir, options);
    a.begin();
    for (let i = 0; i < 40; i++) {
      state = { taken: i + 1 };
      a.append([msg(i)]);
    }
    // Some delivered, some not; then kill -9.
    const sent = a.peek(25);
    a.ack(sent[24]!);
    const b = open(dir, options);
    const checkpoint = JSON.parse(b.recovered.checkpoint!.toString()) as { taken: number };
    const after = b.recovered.after.map((m) => JSON.parse(m.value.toString()).i as number);
    // The checkpoint was taken when the last segment opened (here: inside the append that rotated, so it
    // already counts the message that follows it: replaying must be idempotent); what came after it
    // completes the state.
    expect(after.length).toBeGreaterThan(0);
    expect(checkpoint.taken).toBeGreaterThanOrEqual(after[0]!);
    expect(checkpoint.taken).toBeLessThanOrEqual(after[0]! + 1);
    expect(after).toEqual(Array.from({ length: after.length }, (_, k) => 40 - after.length + k));
    // Checkpoints are never messages.
    expect(drain(b)).toEqual(Array.from({ length: 15 }, (_, i) => i + 25));
    b.close();
  });

  it('keeps the segment with the newest checkpoint until begin() has written a newer one', () => {
    const dir = newDir();
    const options = { checkpoint: () => Buffer.from('state-1') };
    const a = open(dir, options);
    a.append([msg(0)]);
    a.ack(a.peek(1)[0]!);
    // Crash, restart, crash again before anything new was appended: the state must still be there.
    const b = open(dir, { checkpoint: () => Buffer.from('state-2') });
    expect(b.recovered.checkpoint?.toString()).toBe('state-1');
    const c = open(dir, { checkpoint: () => Buffer.from('state-3') });
    expect(c.recovered.checkpoint?.toString()).toBe('state-1');
    c.begin();
    const d = open(dir, { checkpoint: () => Buffer.from('state-4') });
    expect(d.recovered.checkpoint?.toString()).toBe('state-3');
    expect(d.recovered.after).toEqual([]);
    d.close();
  });
});

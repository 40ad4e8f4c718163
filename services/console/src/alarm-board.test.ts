import { describe, expect, it } from 'vitest';
import { AlarmActionRefused, AlarmBoard } from './alarm-board.js';
import { alarmsTable } from './alarm-pages.js';

const KEY = '000001/battery/bank//cell_over_voltage';
const EPISODE = `${KEY}@2026-01-01T00:00:00.000Z`;
const T0 = Date.parse('2026-01-01T00:10:00.000Z');
const LIMITS = { maxShelveMinutes: 1_440 };

const event = (state: string, ts: string, extra: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      v: 1,
      id: EPISODE,
      site: '000001',
      equipment: 'battery',
      device: 'bank',
      rule: 'cell_over_voltage',
      field: 'cell_v_max',
      state,
      level: 'warning',
      value: 4.3,
      threshold: 4.25,
      raisedAt: '2026-01-01T00:00:00.000Z',
      ts,
      message: 'cell voltage high',
      ...extra,
    }),
  );

/** Prepares an action as the route does and applies it as the topic's reader would. */
function act(
  board: AlarmBoard,
  action: 'acknowledged' | 'shelved' | 'unshelved' | 'commented',
  opts: { id: string; now?: number; comment?: string; minutes?: number; by?: string },
) {
  const a = board.prepare(
    {
      key: KEY,
      action,
      comment: opts.comment ?? '',
      by: opts.by ?? 'kim',
      ...(opts.minutes === undefined ? {} : { minutes: opts.minutes }),
    },
    LIMITS,
    { id: opts.id, now: opts.now ?? T0 },
  );
  board.applyAction(Buffer.from(JSON.stringify(a)));
  return a;
}

describe('AlarmBoard', () => {
  it('is active until the latest event clears it; garbage is counted and skipped', () => {
    const alarms = new AlarmBoard();
    alarms.apply(event('raised', '2026-01-01T00:00:00.000Z'), null);
    alarms.apply(event('escalated', '2026-01-01T00:01:00.000Z', { level: 'fault' }), null);
    expect(alarms.active()).toHaveLength(1);
    expect(alarms.active()[0]).toMatchObject({ level: 'fault', state: 'escalated', key: KEY });
    alarms.apply(Buffer.from('{broken'), null);
    alarms.apply(Buffer.from('{"v":2}'), null);
    expect(alarms.invalid).toBe(2);
    alarms.apply(event('cleared', '2026-01-01T00:05:00.000Z'), null);
    expect(alarms.active()).toHaveLength(0);
    // An older event arriving late does not bring a cleared alarm back.
    alarms.apply(event('raised', '2026-01-01T00:00:00.000Z'), null);
    expect(alarms.active()).toHaveLength(0);
    expect(alarms.history(KEY)!.events.map((e) => e.state)).toEqual(['cleared', 'escalated', 'raised']);
  });

  it('records an acknowledgement with who and when; a second one is refused with the first one named', () => {
    const board = new AlarmBoard();
    board.apply(event('raised', '2026-01-01T00:00:00.000Z'), null);
    const ack = act(board, 'acknowledged', { id: 'a1', comment: 'looking' });
    expect(ack).toMatchObject({ action: 'acknowledged', episode: EPISODE, level: 'warning', by: 'kim' });
    expect(board.active(T0)[0]!.acknowledged).toEqual({
      by: 'kim',
      at: '2026-01-01T00:10:00.000Z',
      comment: 'looking',
    });
    expect(() => act(board, 'acknowledged', { id: 'a2' })).toThrow(
      'Already acknowledged by kim at 2026-01-01T00:10:00.000Z.',
    );
  });

  it('asks again after an escalation above the acknowledged level, and for a new episode', () => {
    const board = new AlarmBoard();
    board.apply(event('raised', '2026-01-01T00:00:00.000Z'), null);
    act(board, 'acknowledged', { id: 'a1' });
    board.apply(event('escalated', '2026-01-01T00:11:00.000Z', { level: 'fault' }), null);
    expect(board.active(T0)[0]!.acknowledged).toBeUndefined();
    act(board, 'acknowledged', { id: 'a2', by: 'lee' });
    expect(board.active(T0)[0]!.acknowledged?.by).toBe('lee');
    // Milder again: still acknowledged (at fault, which covers warning).
    board.apply(event('deescalated', '2026-01-01T00:12:00.000Z'), null);
    expect(board.active(T0)[0]!.acknowledged?.by).toBe('lee');
    board.apply(event('cleared', '2026-01-01T00:13:00.000Z'), null);
    expect(() => act(board, 'acknowledged', { id: 'a3' })).toThrow('has cleared');
    const second = '2026-01-01T01:00:00.000Z';
    board.apply(event('raised', second, { id: `${KEY}@${second}`, raisedAt: second }), null);
    expect(board.active(T0)).toHaveLength(1);
    expect(board.active(T0)[0]!.acknowledged).toBeUndefined();
  });

  it('shelves with an expiry and a reason, hides the alarm from the active list until then, and unshelves', () => {
    const board = new AlarmBoard();
    board.apply(event('raised', '2026-01-01T00:00:00.000Z'), null);
    expect(() => act(board, 'shelved', { id: 's0', minutes: 60 })).toThrow('Say why');
    expect(() => act(board, 'shelved', { id: 's0', minutes: 0, comment: 'x' })).toThrow('1 to 1440 minutes');
    expect(() => act(board, 'shelved', { id: 's0', minutes: 1_441, comment: 'x' })).toThrow(
      AlarmActionRefused,
    );
    expect(() => act(board, 'unshelved', { id: 'u0' })).toThrow('not shelved');
    const shelf = act(board, 'shelved', { id: 's1', minutes: 60, comment: 'sensor swap' });
    expect(shelf.shelvedUntil).toBe('2026-01-01T01:10:00.000Z');
    expect(board.active(T0)).toEqual([]);
    expect(board.shelved(T0).map((a) => a.shelved)).toEqual([
      {
        by: 'kim',
        at: '2026-01-01T00:10:00.000Z',
        until: '2026-01-01T01:10:00.000Z',
        comment: 'sensor swap',
      },
    ]);
    // The shelf ends by itself: a minute before, still shelved; at the time, active again.
    expect(board.active(T0 + 59 * 60_000)).toEqual([]);
    expect(board.active(T0 + 60 * 60_000)).toHaveLength(1);
    expect(board.shelved(T0 + 60 * 60_000)).toEqual([]);
    act(board, 'unshelved', { id: 'u1', now: T0 + 60_000 });
    expect(board.active(T0 + 120_000)).toHaveLength(1);
  });

  it('keeps comments and every action in the history, newest first, once per id', () => {
    const board = new AlarmBoard();
    board.apply(event('raised', '2026-01-01T00:00:00.000Z'), null);
    expect(() => act(board, 'commented', { id: 'c0' })).toThrow('Write the comment first.');
    const c = act(board, 'commented', { id: 'c1', comment: 'crew on site', now: T0 });
    act(board, 'acknowledged', { id: 'a1', now: T0 + 1_000 });
    board.applyAction(Buffer.from(JSON.stringify(c))); // redelivered
    board.applyAction(Buffer.from('{"v":1}'));
    expect(board.invalidActions).toBe(1);
    expect(board.history(KEY)!.actions.map((a) => [a.id, a.action, a.comment])).toEqual([
      ['a1', 'acknowledged', ''],
      ['c1', 'commented', 'crew on site'],
    ]);
    expect(board.history('nope')).toBeUndefined();
    expect(() =>
      board.prepare({ key: 'nope', action: 'commented', comment: 'x', by: 'kim' }, LIMITS, {
        id: 'x',
        now: T0,
      }),
    ).toThrow('There is no alarm nope.');
  });

  it('applies actions read before their alarm (the two topics are read independently)', () => {
    const source = new AlarmBoard();
    source.apply(event('raised', '2026-01-01T00:00:00.000Z'), null);
    const ack = act(source, 'acknowledged', { id: 'a1' });
    const restarted = new AlarmBoard();
    restarted.applyAction(Buffer.from(JSON.stringify(ack)));
    restarted.apply(event('raised', '2026-01-01T00:00:00.000Z'), null);
    expect(restarted.active(T0)[0]!.acknowledged?.by).toBe('kim');
  });
});

describe('alarmsTable', () => {
  it("marks the forecaster's early warnings as predicted, and only those", () => {
    const board = new AlarmBoard();
    board.apply(event('raised', '2026-01-01T00:00:00.000Z'), null);
    board.apply(
      event('raised', '2026-01-01T00:00:00.000Z', {
        id: `000001/battery/bank//predicted_soc_low@2026-01-01T00:00:00.000Z`,
        rule: 'predicted_soc_low',
      }),
      null,
    );
    const table = alarmsTable(board.active(T0)).value;
    expect(table.match(/badge predicted/g)).toHaveLength(1);
    expect(table).toMatch(/<code>predicted_soc_low<\/code> <span class="badge predicted"/);
  });
});

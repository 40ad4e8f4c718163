import type { AlarmEvent } from '@gridstream/schema';
import { InvalidAlarmError, parseAlarm, parseAlarmAction } from '@gridstream/sink';
import { describe, expect, it } from 'vitest';
import { alarmActionToLine, alarmToLine } from './alarm-line.js';

const RAISED_AT = '2026-11-23T01:02:03.456Z';
const event = (over: Partial<AlarmEvent> = {}): AlarmEvent => ({
  v: 1,
  id: `sionyu/battery/bank/3/rack_over_temperature@${RAISED_AT}`,
  site: 'sionyu',
  equipment: 'battery',
  device: 'bank',
  rack: '3',
  rule: 'rack_over_temperature',
  field: 'max_cell_temperature',
  state: 'raised',
  level: 'warning',
  value: 52.5,
  threshold: 50,
  raisedAt: RAISED_AT,
  ts: RAISED_AT,
  message: 'max_cell_temperature 52.5 degC above 50',
  ...over,
});

const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('alarmToLine', () => {
  it('writes the contract: sorted tags, float value/threshold, active, message, id, integer raised_at_ms, event time', () => {
    expect(alarmToLine(event())).toBe(
      'alarms,device=bank,equipment=battery,level=warning,rack=3,rule=rack_over_temperature,site=sionyu,state=raised ' +
        'value=52.5,threshold=50,active=true,message="max_cell_temperature 52.5 degC above 50",' +
        `id="sionyu/battery/bank/3/rack_over_temperature@${RAISED_AT}",raised_at_ms=1795395723456i 1795395723456`,
    );
  });

  it('marks a cleared event inactive, leaves out null value/threshold and a missing rack, uses the event ts', () => {
    const line = alarmToLine(
      event({
        rack: undefined,
        state: 'cleared',
        level: 'fault',
        value: null,
        threshold: null,
        ts: '2026-11-23T01:05:00.000Z',
        message: 'say "hi" \\ bye',
      }),
    );
    expect(line).toBe(
      'alarms,device=bank,equipment=battery,level=fault,rule=rack_over_temperature,site=sionyu,state=cleared ' +
        `active=false,message="say \\"hi\\" \\\\ bye",id="sionyu/battery/bank/3/rack_over_temperature@${RAISED_AT}",` +
        `raised_at_ms=1795395723456i ${Date.parse('2026-11-23T01:05:00.000Z')}`,
    );
  });

  it('escapes tag values with spaces, commas and equals signs', () => {
    expect(alarmToLine(event({ site: 'site a,b=c', rack: undefined }))).toContain(
      ',site=site\\ a\\,b\\=c,state=raised ',
    );
  });
});

describe('parseAlarm', () => {
  it('returns a valid event as it was sent', () => {
    expect(parseAlarm(buf(event()))).toEqual(event());
  });

  it.each([
    ['not JSON', '{"v":1,', 'not_json'],
    ['empty', '', 'not_json'],
    ['a parsed record', { v: 1, site: 'x', fields: {}, flags: {} }, 'invalid_record'],
    ['an unknown level', { ...event(), level: 'critical' }, 'invalid_record'],
    ['an unknown state', { ...event(), state: 'acknowledged' }, 'invalid_record'],
    ['a local timestamp', { ...event(), ts: '2026-11-23 10:02:03' }, 'invalid_record'],
    ['a string value', { ...event(), value: '52.5' }, 'invalid_record'],
  ])('refuses %s with reason %s', (_what, value, reason) => {
    let thrown: unknown;
    try {
      parseAlarm(buf(value));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidAlarmError);
    expect((thrown as InvalidAlarmError).reason).toBe(reason);
  });

  it('refuses a missing value (null message) as not_json', () => {
    expect(() => parseAlarm(null)).toThrow(InvalidAlarmError);
  });
});

describe('writer configuration', () => {
  it('reads alarms by default, from telemetry.alarms', async () => {
    const { writerConfigSchema } = await import('./config.js');
    const cfg = writerConfigSchema.parse({});
    expect(cfg.WRITER_ALARMS).toBe(true);
    expect(cfg.KAFKA_TOPIC_ALARMS).toBe('telemetry.alarms');
    expect(writerConfigSchema.parse({ WRITER_ALARMS: 'false' }).WRITER_ALARMS).toBe(false);
  });

  it('refuses the parsed topic as the alarms topic, unless alarms are off', async () => {
    const { writerConfigSchema } = await import('./config.js');
    const same = { KAFKA_TOPIC_PARSED: 't', KAFKA_TOPIC_ALARMS: 't' };
    const result = writerConfigSchema.safeParse(same);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(['KAFKA_TOPIC_ALARMS']);
    expect(writerConfigSchema.safeParse({ ...same, WRITER_ALARMS: 'false' }).success).toBe(true);
  });
});

describe('alarmActionToLine', () => {
  const action = {
    v: 1,
    id: '5b0e5d0e-1',
    action: 'shelved',
    episode: `sionyu/battery/bank/3/rack_over_temperature@${RAISED_AT}`,
    site: 'sionyu',
    equipment: 'battery',
    device: 'bank',
    rack: '3',
    rule: 'rack_over_temperature',
    by: 'Kim "night shift"',
    at: '2026-11-23T02:00:00.000Z',
    comment: 'fan, replaced tomorrow',
    shelvedUntil: '2026-11-23T03:00:00.000Z',
  };

  it('writes who, why, the episode and the shelf end as fields, at the action time', () => {
    expect(alarmActionToLine(parseAlarmAction(buf(action)))).toBe(
      'alarm_actions,action=shelved,device=bank,equipment=battery,rack=3,rule=rack_over_temperature,site=sionyu ' +
        'by="Kim \\"night shift\\"",comment="fan, replaced tomorrow",' +
        `episode="sionyu/battery/bank/3/rack_over_temperature@${RAISED_AT}",shelved_until_ms=1795402800000i 1795399200000`,
    );
  });

  it('refuses an action that is not one, naming the field', () => {
    expect(() => parseAlarmAction(buf({ ...action, action: 'deleted' }))).toThrow(
      /not an alarm action: action/,
    );
    expect(() => parseAlarmAction(buf({ ...action, shelvedUntil: undefined }))).toThrow(
      'not an alarm action: shelvedUntil: a shelved action needs shelvedUntil',
    );
    expect(() => parseAlarmAction(buf('{'))).toThrow(InvalidAlarmError);
  });
});

import { describe, expect, it } from 'vitest';
import { describeModbusError } from './modbus-errors.js';

describe('describeModbusError', () => {
  it('explains exception codes and says which are worth retrying', () => {
    const illegal = Object.assign(new Error('Modbus exception 2: Illegal data address'), { modbusCode: 2 });
    expect(describeModbusError(illegal)).toMatchObject({
      kind: 'exception',
      exceptionCode: 2,
      retriable: false,
    });
    expect(describeModbusError(illegal).message).toContain('illegal data address');
    const busy = Object.assign(new Error('x'), { modbusCode: 6 });
    expect(describeModbusError(busy)).toMatchObject({ kind: 'exception', retriable: true });
    expect(describeModbusError(Object.assign(new Error('x'), { modbusCode: 11 })).message).toContain(
      'gateway target',
    );
  });

  it('recognises refusals, timeouts, closed ports and unreachable hosts', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1502'), { code: 'ECONNREFUSED' });
    expect(describeModbusError(refused).kind).toBe('refused');
    expect(
      describeModbusError({ name: 'TransactionTimedOutError', message: 'Timed out', errno: 'ETIMEDOUT' })
        .kind,
    ).toBe('timeout');
    expect(describeModbusError({ message: 'Port Not Open', errno: 'ECONNREFUSED' }).kind).toBe('closed');
    expect(
      describeModbusError(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' }))
        .kind,
    ).toBe('unreachable');
    expect(describeModbusError('something odd')).toEqual({
      kind: 'other',
      retriable: true,
      message: 'something odd',
    });
  });
});

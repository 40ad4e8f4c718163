import { SinkWriteError } from '@gridstream/sink';
import { describe, expect, it } from 'vitest';
import { isRefusal, toSinkError } from './pg-errors.js';

describe('PostgreSQL errors in the seam’s terms', () => {
  it('counts data exceptions, integrity violations and a key met twice as refusals of the rows', () => {
    for (const code of ['22003', '22021', '22007', '22P02', '23514', '23503', '23505', '21000', '54000'])
      expect(isRefusal(code), code).toBe(true);
  });

  it('retries what is about the server or its setup: connections, shutdown, resources, locks, schema, rights', () => {
    for (const code of [
      '08006',
      '08P01',
      '57P01',
      '57P03',
      '53300',
      '53100',
      '40P01',
      '40001',
      '42P01',
      '42501',
      '0A000',
      '55P03',
      'XX000',
      '25P02',
    ])
      expect(isRefusal(code), code).toBe(false);
    expect(isRefusal(undefined)).toBe(false);
    expect(isRefusal('ECONNREFUSED')).toBe(false);
  });

  it('keeps the server message, its detail and the SQLSTATE on a refusal', () => {
    const error = Object.assign(
      new Error('new row for relation "readings" violates check constraint "soc_range"'),
      {
        code: '23514',
        severity: 'ERROR',
        detail: 'Failing row contains (…).',
      },
    );
    const mapped = toSinkError(error);
    expect(mapped).toBeInstanceOf(SinkWriteError);
    expect(mapped).toMatchObject({
      retriable: false,
      status: '23514',
      serverMessage:
        'new row for relation "readings" violates check constraint "soc_range" (Failing row contains (…).)',
    });
    expect(
      toSinkError(
        Object.assign(new Error('terminating connection due to administrator command'), {
          code: '57P01',
          severity: 'FATAL',
        }),
      ),
    ).toMatchObject({ retriable: true, status: '57P01' });
  });

  it('passes a socket error on as it is (retried by the seam), even one whose code looks like a SQLSTATE', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:55432'), {
      code: 'ECONNREFUSED',
    });
    expect(toSinkError(refused)).toBe(refused);
    const pipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    expect(toSinkError(pipe)).toBe(pipe);
  });
});

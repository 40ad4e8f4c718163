/**
 * What went wrong with a Modbus request, as a closed list with a `retriable` flag: the collector's retry
 * and breaker logic and the probe's message both come from here, so an operator reads the same words in
 * a log line and on the terminal. Works on the error objects modbus-serial and node's net module produce,
 * without depending on either.
 */

/** Modbus exception codes (Modbus application protocol v1.1b3, section 7) and what they mean in practice. */
export const MODBUS_EXCEPTION_MEANINGS: Readonly<Record<number, string>> = {
  1: 'illegal function: the device does not support this function code (wrong --function, or registers of another kind)',
  2: 'illegal data address: the device has no register at some address in the request (check the address base and count)',
  3: 'illegal data value: the device refuses the request as formed (often a count above what it allows)',
  4: 'server device failure: the device hit an internal error while answering',
  5: 'acknowledge: the device accepted a long-running request; ask again later',
  6: 'server device busy: the device is processing another request; retry later',
  8: 'memory parity error: the device found a parity error in its memory',
  10: 'gateway path unavailable: the gateway has no route to this unit id',
  11: 'gateway target device failed to respond: the gateway reached no device with this unit id',
};

export type ModbusErrorKind = 'refused' | 'timeout' | 'unreachable' | 'closed' | 'exception' | 'other';

export interface ModbusErrorInfo {
  kind: ModbusErrorKind;
  /** Worth trying again on the next attempt/cycle (an illegal address never fixes itself). */
  retriable: boolean;
  /** The Modbus exception code, for kind 'exception'. */
  exceptionCode?: number;
  message: string;
}

const RETRIABLE_EXCEPTIONS = new Set([4, 5, 6, 10, 11]);

export function describeModbusError(error: unknown): ModbusErrorInfo {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    modbusCode?: unknown;
    code?: unknown;
    errno?: unknown;
    message?: unknown;
  };
  const text = typeof e.message === 'string' ? e.message : String(error);
  if (typeof e.modbusCode === 'number') {
    const meaning = MODBUS_EXCEPTION_MEANINGS[e.modbusCode] ?? 'an exception code outside the standard list';
    return {
      kind: 'exception',
      retriable: RETRIABLE_EXCEPTIONS.has(e.modbusCode),
      exceptionCode: e.modbusCode,
      message: `Modbus exception ${e.modbusCode}: ${meaning}`,
    };
  }
  const code = typeof e.code === 'string' ? e.code : typeof e.errno === 'string' ? e.errno : '';
  if (code === 'ECONNREFUSED' && /port not open/i.test(text)) {
    return {
      kind: 'closed',
      retriable: true,
      message: 'the connection is not open (it dropped or was never made)',
    };
  }
  if (code === 'ECONNREFUSED') {
    return {
      kind: 'refused',
      retriable: true,
      message: `connection refused: nothing listens there (${text})`,
    };
  }
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(text)) {
    return {
      kind: 'timeout',
      retriable: true,
      message: `no answer in time: the device is silent, slow, or the unit id is wrong (${text})`,
    };
  }
  if (['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) {
    return { kind: 'unreachable', retriable: true, message: `host unreachable (${text})` };
  }
  if (['ECONNRESET', 'EPIPE'].includes(code)) {
    return { kind: 'closed', retriable: true, message: `the device closed the connection (${text})` };
  }
  return { kind: 'other', retriable: true, message: text };
}

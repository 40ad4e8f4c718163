import { DataType, StatusCodes, Variant, VariantArrayType } from 'node-opcua-client';
import { describe, expect, it } from 'vitest';
import { scalarOf, severityOf, usableTimestamp } from './data-value.js';
import { describeOpcuaError } from './errors.js';
import { joinBrowsePath, parseBrowsePath } from './resolve.js';
import { SecurityPolicySchema } from './security.js';

describe('browse paths', () => {
  it('splits on "/", reads namespace prefixes and escapes', () => {
    expect(parseBrowsePath('/Objects/2:Microgrid/Site\\/01/SOC')).toEqual([
      { name: 'Objects' },
      { ns: 2, name: 'Microgrid' },
      { name: 'Site/01' },
      { name: 'SOC' },
    ]);
    expect(() => parseBrowsePath('Objects/SOC')).toThrow(/must start with "\/"/);
    expect(() => parseBrowsePath('/Objects//SOC')).toThrow(/empty browse name/);
    expect(joinBrowsePath('/Objects/Microgrid/', 'Battery01/SOC')).toBe('/Objects/Microgrid/Battery01/SOC');
    expect(joinBrowsePath(undefined, '/Objects/X')).toBe('/Objects/X');
  });
});

describe('values and status codes', () => {
  it('maps status codes to good / uncertain / bad by their severity bits', () => {
    expect(severityOf(StatusCodes.Good)).toBe('good');
    expect(severityOf(StatusCodes.GoodClamped)).toBe('good');
    expect(severityOf(StatusCodes.UncertainLastUsableValue)).toBe('uncertain');
    expect(severityOf(StatusCodes.BadSensorFailure)).toBe('bad');
    expect(severityOf(StatusCodes.BadNodeIdUnknown)).toBe('bad');
  });

  it('turns every numeric type into a number, keeps booleans, refuses the rest', () => {
    expect(scalarOf(new Variant({ dataType: DataType.UInt32, value: 4_294_967_295 }))).toEqual({
      kind: 'number',
      value: 4_294_967_295,
    });
    expect(scalarOf(new Variant({ dataType: DataType.Int16, value: -32_768 }))).toEqual({
      kind: 'number',
      value: -32_768,
    });
    expect(
      scalarOf(
        new Variant({
          dataType: DataType.Int64,
          arrayType: VariantArrayType.Scalar,
          value: [0xffffffff, 0xffffffd6],
        }),
      ),
    ).toEqual({
      kind: 'number',
      value: -42,
    });
    expect(
      scalarOf(
        new Variant({
          dataType: DataType.UInt64,
          arrayType: VariantArrayType.Scalar,
          value: [0x001fffff, 0xffffffff],
        }),
      ),
    ).toEqual({
      kind: 'number',
      value: Number.MAX_SAFE_INTEGER,
    });
    expect(scalarOf(new Variant({ dataType: DataType.Boolean, value: true }))).toEqual({
      kind: 'boolean',
      value: true,
    });
    expect(scalarOf(new Variant({ dataType: DataType.String, value: 'x' }))).toEqual({
      kind: 'unsupported',
      dataType: 'String',
    });
    expect(
      scalarOf(new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Array, value: [1, 2] })),
    ).toEqual({ kind: 'unsupported', dataType: 'Double[]' });
    expect(scalarOf(new Variant({ dataType: DataType.Null }))).toEqual({ kind: 'empty' });
    expect(scalarOf(null)).toEqual({ kind: 'empty' });
  });

  it('treats OPC UA MinDateTime as no timestamp', () => {
    expect(usableTimestamp(new Date(Date.UTC(1601, 0, 1)))).toBeUndefined();
    expect(usableTimestamp(null)).toBeUndefined();
    expect(usableTimestamp(new Date('2024-01-02T03:04:05.678Z'))).toBe(
      Date.parse('2024-01-02T03:04:05.678Z'),
    );
  });
});

describe('security policies', () => {
  it('accepts the current policies and refuses the deprecated ones with the reason', () => {
    expect(SecurityPolicySchema.parse('Aes256_Sha256_RsaPss')).toBe('Aes256_Sha256_RsaPss');
    expect(SecurityPolicySchema.safeParse('Basic128Rsa15').error?.issues[0]?.message).toMatch(
      /refused: it uses SHA-1 and RSA PKCS#1 v1.5/,
    );
    expect(SecurityPolicySchema.safeParse('Basic512').error?.issues[0]?.message).toMatch(/must be one of/);
  });
});

describe('error messages', () => {
  const ctx = {
    endpointUrl: 'opc.tcp://plc:4840',
    trustedFolder: '/pki/trusted/certs',
    rejectedFolder: '/pki/rejected',
    thumbprint: 'AB12',
  };
  it('says which side refused which certificate, and what to do', () => {
    expect(
      describeOpcuaError(
        new Error('server Certificate verification failed with err BadCertificateUntrusted (0x801a0000)'),
        ctx,
      ),
    ).toBe(
      "opc.tcp://plc:4840: we do not trust the server's certificate (BadCertificateUntrusted): it was saved in /pki/rejected; move it to /pki/trusted/certs to trust it",
    );
    expect(
      describeOpcuaError(
        new Error('The connection has been rejected by server: BadSecurityChecksFailed (0x80130000)'),
        ctx,
      ),
    ).toMatch(/the server refused our application certificate \(thumbprint AB12\)/);
    expect(describeOpcuaError(new Error('connect ECONNREFUSED 127.0.0.1:4840'), ctx)).toMatch(
      /connection refused/,
    );
    expect(describeOpcuaError(new Error('BadUserAccessDenied (0x801f0000)'), ctx)).toMatch(/login refused/);
  });
});

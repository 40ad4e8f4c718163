import { MessageSecurityMode, SecurityPolicy } from 'node-opcua-client';
import { z } from 'zod';

/** Message security modes, by the names the OPC UA specification and every server's UI use. */
export const SECURITY_MODE_NAMES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export type SecurityModeName = (typeof SECURITY_MODE_NAMES)[number];

/** Policies gridstream connects with: the current ones (OPC UA 1.04+). */
export const SECURITY_POLICY_NAMES = [
  'None',
  'Basic256Sha256',
  'Aes128_Sha256_RsaOaep',
  'Aes256_Sha256_RsaPss',
] as const;
export type SecurityPolicyName = (typeof SECURITY_POLICY_NAMES)[number];

/**
 * Deprecated by the OPC Foundation (SHA-1 signatures, RSA PKCS#1 v1.5 padding). Node ≥ 20.11 refuses
 * PKCS#1 v1.5 decryption altogether, so a session with them would fail anyway, late and obscurely;
 * naming them at config time tells the operator what to change on the server.
 */
export const DEPRECATED_SECURITY_POLICIES: Record<string, string> = {
  Basic128Rsa15: 'uses SHA-1 and RSA PKCS#1 v1.5 (deprecated since OPC UA 1.04; refused by Node ≥ 20.11)',
  Basic256: 'uses SHA-1 signatures (deprecated since OPC UA 1.04)',
};

export const SecurityModeSchema = z.enum(SECURITY_MODE_NAMES, {
  message: `must be one of ${SECURITY_MODE_NAMES.join(', ')}`,
});

export const SecurityPolicySchema = z.string().superRefine((value, ctx) => {
  const deprecated = DEPRECATED_SECURITY_POLICIES[value];
  if (deprecated) {
    ctx.addIssue({
      code: 'custom',
      message: `security policy ${value} is refused: it ${deprecated}; configure the server for Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss`,
    });
  } else if (!(SECURITY_POLICY_NAMES as readonly string[]).includes(value)) {
    ctx.addIssue({ code: 'custom', message: `must be one of ${SECURITY_POLICY_NAMES.join(', ')}` });
  }
}) as unknown as z.ZodType<SecurityPolicyName>;

export function messageSecurityMode(name: SecurityModeName): MessageSecurityMode {
  return MessageSecurityMode[name];
}

export function securityPolicy(name: SecurityPolicyName): SecurityPolicy {
  return SecurityPolicy[name];
}

/** `http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256` → `Basic256Sha256`. */
export function shortPolicyName(uri: string | null | undefined): string {
  if (!uri) return 'None';
  const hash = uri.lastIndexOf('#');
  return hash >= 0 ? uri.slice(hash + 1) : uri;
}

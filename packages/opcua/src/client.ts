import { type ClientSession, OPCUAClient, type UserIdentityInfo, UserTokenType } from 'node-opcua-client';
import type { ApplicationPki } from './pki.js';
import {
  messageSecurityMode,
  type SecurityModeName,
  type SecurityPolicyName,
  securityPolicy,
} from './security.js';

export interface ClientOptions {
  pki: ApplicationPki;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  /**
   * true: once connected, node-opcua repairs a broken connection by itself, forever (a collector).
   * false: no repair (a one-shot CLI call). Either way the first connect fails fast with the real error.
   */
  reconnect: boolean;
  /** Longest pause between reconnection attempts. */
  maxRetryDelayMs?: number;
  /** Per-request timeout; also bounds how long a dead TCP peer goes unnoticed. */
  requestTimeoutMs?: number;
  sessionTimeoutMs?: number;
  /** Send a Read now and then on an otherwise idle session (polling mode, browse). */
  keepSessionAlive?: boolean;
  clientName?: string;
}

export function createClient(options: ClientOptions): OPCUAClient {
  return OPCUAClient.create({
    applicationName: options.pki.applicationName,
    applicationUri: options.pki.applicationUri,
    clientName: options.clientName ?? options.pki.applicationName,
    clientCertificateManager: options.pki.certificateManager,
    certificateFile: options.pki.certificateFile,
    privateKeyFile: options.pki.privateKeyFile,
    securityMode: messageSecurityMode(options.securityMode),
    securityPolicy: securityPolicy(options.securityPolicy),
    // Servers behind NAT or DNS aliases advertise a host name other than the one we dial; matching the
    // endpoint by security settings only keeps those reachable.
    endpointMustExist: false,
    // node-opcua uses maxRetry for the FIRST connect only, and repairs a connection that was up with
    // unlimited retries whenever maxRetry is non-zero. 1 retry keeps the first connect quick and lets its
    // error (refused, untrusted certificate …) reach us instead of an endless silent backoff.
    connectionStrategy: {
      maxRetry: options.reconnect ? 1 : 0,
      initialDelay: 500,
      maxDelay: options.maxRetryDelayMs ?? 5_000,
      randomisationFactor: 0.2,
    },
    requestedSessionTimeout: options.sessionTimeoutMs ?? 60_000,
    defaultTransactionTimeout: options.requestTimeoutMs ?? 15_000,
    keepSessionAlive: options.keepSessionAlive ?? false,
  });
}

export type UserIdentity =
  | { type: 'anonymous' }
  | { type: 'username'; username: string; password: string }
  | { type: 'certificate'; certificatePem: string; privateKeyPem: string };

export function userIdentityInfo(identity: UserIdentity): UserIdentityInfo {
  switch (identity.type) {
    case 'anonymous':
      return { type: UserTokenType.Anonymous };
    case 'username':
      return { type: UserTokenType.UserName, userName: identity.username, password: identity.password };
    case 'certificate':
      return {
        type: UserTokenType.Certificate,
        certificateData: pemToDer(identity.certificatePem),
        privateKey: identity.privateKeyPem,
      } as UserIdentityInfo;
  }
}

function pemToDer(pem: string): Buffer {
  const body = pem
    .replace(/-----BEGIN CERTIFICATE-----/, '')
    .replace(/-----END CERTIFICATE-----[\s\S]*$/, '')
    .replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

/** Resolves within `ms` or rejects with `what timed out`: node-opcua calls can wait forever on a dead peer. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a session and disconnects, bounded in time, never throwing: used on every teardown path. */
export async function closeQuietly(
  client: OPCUAClient,
  session?: ClientSession,
  timeoutMs = 5_000,
): Promise<void> {
  if (session)
    await withTimeout(session.close(true), timeoutMs, 'closing the session').catch(() => undefined);
  await withTimeout(client.disconnect(), timeoutMs, 'disconnecting').catch(() => undefined);
}

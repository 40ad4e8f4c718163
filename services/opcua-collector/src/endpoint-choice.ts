import {
  DEPRECATED_SECURITY_POLICIES,
  SECURITY_POLICY_NAMES,
  type SecurityModeName,
  type SecurityPolicyName,
  shortPolicyName,
} from '@gridstream/opcua';
import { MessageSecurityMode, UserTokenType } from 'node-opcua-client';

/**
 * `securityMode: auto`: which of the endpoints a server lists (GetEndpoints) the collector connects
 * with. Pure, so the rules are tested without a server.
 *
 * The rules, in order:
 * 1. Only endpoints this collector can use: OPC UA binary over TCP, and a policy node-opcua can run on
 *    this Node (Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss; never Basic128Rsa15 or
 *    Basic256, whose RSA PKCS#1 v1.5 Node ≥ 20.11 refuses).
 * 2. Only endpoints that accept the configured login (anonymous, username, certificate), when the
 *    endpoint lists its user token policies.
 * 3. The strongest of those: SignAndEncrypt over Sign over None, then Aes256_Sha256_RsaPss over
 *    Aes128_Sha256_RsaOaep over Basic256Sha256.
 * 4. None only when nothing secured is left, and never with a password unless the endpoint file says the
 *    server encrypts it itself (`allowPasswordOnUnsecuredChannel`).
 */

/** What GetEndpoints returns, as far as the choice needs it (node-opcua's EndpointDescription fits). */
export interface OfferedEndpoint {
  endpointUrl?: string | null;
  securityMode: MessageSecurityMode;
  securityPolicyUri?: string | null;
  transportProfileUri?: string | null;
  userIdentityTokens?: readonly { tokenType: UserTokenType }[] | null;
}

export type IdentityKind = 'anonymous' | 'username' | 'certificate';

export type EndpointChoice =
  | {
      ok: true;
      securityMode: SecurityModeName;
      securityPolicy: SecurityPolicyName;
      /** The endpoint URL the server advertised for the chosen one (informational; we dial ours). */
      endpointUrl: string;
      /** Why the choice is None although the server was asked for something better; absent otherwise. */
      noneBecause?: string;
      /** Every endpoint offered, as `Mode/Policy`, for the log. */
      offered: string[];
    }
  | { ok: false; error: string; offered: string[] };

const BINARY_TCP = 'http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary';

const MODE_RANK: Record<SecurityModeName, number> = { None: 0, Sign: 1, SignAndEncrypt: 2 };
const POLICY_RANK: Record<SecurityPolicyName, number> = {
  None: 0,
  Basic256Sha256: 1,
  Aes128_Sha256_RsaOaep: 2,
  Aes256_Sha256_RsaPss: 3,
};

const TOKEN_TYPE: Record<IdentityKind, UserTokenType> = {
  anonymous: UserTokenType.Anonymous,
  username: UserTokenType.UserName,
  certificate: UserTokenType.Certificate,
};

const LOGIN_NAME: Record<IdentityKind, string> = {
  anonymous: 'anonymous',
  username: 'username/password',
  certificate: 'X509 certificate',
};

function modeName(mode: MessageSecurityMode): SecurityModeName | undefined {
  switch (mode) {
    case MessageSecurityMode.None:
      return 'None';
    case MessageSecurityMode.Sign:
      return 'Sign';
    case MessageSecurityMode.SignAndEncrypt:
      return 'SignAndEncrypt';
    default:
      return undefined;
  }
}

interface Candidate {
  mode: SecurityModeName;
  policy: SecurityPolicyName;
  endpointUrl: string;
}

export function chooseEndpoint(
  endpoints: readonly OfferedEndpoint[],
  options: { identity: IdentityKind; allowPasswordOnUnsecuredChannel: boolean },
): EndpointChoice {
  const offered: string[] = [];
  const usable: Candidate[] = [];
  /** Endpoints we had to pass over, with the reason: what a fall-back to None or an error explains. */
  const passedOver: string[] = [];
  let policyRefused = false;
  let loginRefused = false;
  const login = LOGIN_NAME[options.identity];

  for (const e of endpoints) {
    const mode = modeName(e.securityMode);
    const policyName = mode === 'None' ? 'None' : shortPolicyName(e.securityPolicyUri);
    const label = `${mode ?? `mode ${e.securityMode}`}/${policyName}`;
    if (e.transportProfileUri && e.transportProfileUri !== BINARY_TCP) {
      // Endpoints for HTTPS or WebSockets: another transport, not one we can dial.
      continue;
    }
    offered.push(label);
    if (mode === undefined) continue;
    if (!(SECURITY_POLICY_NAMES as readonly string[]).includes(policyName)) {
      const deprecated = DEPRECATED_SECURITY_POLICIES[policyName];
      policyRefused = true;
      passedOver.push(
        `${label} (${deprecated ? `the policy ${deprecated}` : 'a policy this collector does not support'})`,
      );
      continue;
    }
    const tokens = e.userIdentityTokens ?? [];
    if (tokens.length > 0 && !tokens.some((t) => t.tokenType === TOKEN_TYPE[options.identity])) {
      loginRefused = true;
      passedOver.push(`${label} (accepts no ${login} login)`);
      continue;
    }
    usable.push({ mode, policy: policyName as SecurityPolicyName, endpointUrl: e.endpointUrl ?? '' });
  }

  if (usable.length === 0) {
    const why = passedOver.length > 0 ? passedOver.join('; ') : 'GetEndpoints listed no OPC UA TCP endpoint';
    const advice = [
      policyRefused || offered.length === 0
        ? 'configure the server for SignAndEncrypt with Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss'
        : '',
      loginRefused ? 'give the endpoint an identity the server accepts' : '',
    ]
      .filter(Boolean)
      .join(', or ');
    return {
      ok: false,
      error: `securityMode auto found nothing it can connect with: ${why}${advice ? `. To fix: ${advice}` : ''}`,
      offered,
    };
  }

  usable.sort(
    (a, b) => MODE_RANK[b.mode] - MODE_RANK[a.mode] || POLICY_RANK[b.policy] - POLICY_RANK[a.policy],
  );
  const best = usable[0]!;
  if (best.mode !== 'None')
    return {
      ok: true,
      securityMode: best.mode,
      securityPolicy: best.policy,
      endpointUrl: best.endpointUrl,
      offered,
    };

  const securedPassedOver = passedOver.filter((p) => !p.startsWith('None/'));
  const noneBecause =
    securedPassedOver.length > 0
      ? `its secured endpoints are of no use here: ${securedPassedOver.join('; ')}`
      : 'the server offers securityMode None only';
  if (options.identity === 'username' && !options.allowPasswordOnUnsecuredChannel) {
    return {
      ok: false,
      error: `securityMode auto refuses to send the password: the only usable endpoint is securityMode None (${noneBecause}), where the password may travel unencrypted. Enable SignAndEncrypt on the server, or set allowPasswordOnUnsecuredChannel if the server encrypts the token itself`,
      offered,
    };
  }
  return {
    ok: true,
    securityMode: 'None',
    securityPolicy: 'None',
    endpointUrl: best.endpointUrl,
    noneBecause,
    offered,
  };
}

import { MessageSecurityMode, SecurityPolicy, UserTokenType } from 'node-opcua-client';
import { describe, expect, it } from 'vitest';
import { chooseEndpoint, type OfferedEndpoint } from './endpoint-choice.js';

const URL = 'opc.tcp://plc.local:4840';
const TCP = 'http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary';
const ALL_LOGINS = [UserTokenType.Anonymous, UserTokenType.UserName, UserTokenType.Certificate];

function endpoint(
  mode: keyof typeof MessageSecurityMode,
  policy: keyof typeof SecurityPolicy,
  logins: UserTokenType[] = ALL_LOGINS,
  extra: Partial<OfferedEndpoint> = {},
): OfferedEndpoint {
  return {
    endpointUrl: URL,
    securityMode: MessageSecurityMode[mode],
    securityPolicyUri: SecurityPolicy[policy],
    transportProfileUri: TCP,
    userIdentityTokens: logins.map((tokenType) => ({ tokenType })),
    ...extra,
  };
}

const anonymous = { identity: 'anonymous', allowPasswordOnUnsecuredChannel: false } as const;
const username = { identity: 'username', allowPasswordOnUnsecuredChannel: false } as const;

describe('securityMode auto: choosing among the endpoints a server offers', () => {
  it('takes None when None is all there is, and says so', () => {
    const choice = chooseEndpoint([endpoint('None', 'None')], anonymous);
    expect(choice).toEqual({
      ok: true,
      securityMode: 'None',
      securityPolicy: 'None',
      endpointUrl: URL,
      noneBecause: 'the server offers securityMode None only',
      offered: ['None/None'],
    });
  });

  it('takes SignAndEncrypt over Sign over None, and the strongest policy of that mode', () => {
    const offered = [
      endpoint('None', 'None'),
      endpoint('Sign', 'Basic256Sha256'),
      endpoint('Sign', 'Aes256_Sha256_RsaPss'),
      endpoint('SignAndEncrypt', 'Basic256Sha256'),
      endpoint('SignAndEncrypt', 'Aes256_Sha256_RsaPss'),
      endpoint('SignAndEncrypt', 'Aes128_Sha256_RsaOaep'),
      endpoint('SignAndEncrypt', 'Basic128Rsa15'),
      endpoint('SignAndEncrypt', 'Basic256'),
    ];
    // The order the server lists them in does not matter.
    for (const list of [offered, [...offered].reverse()]) {
      const choice = chooseEndpoint(list, anonymous);
      expect(choice).toMatchObject({
        ok: true,
        securityMode: 'SignAndEncrypt',
        securityPolicy: 'Aes256_Sha256_RsaPss',
      });
      expect(choice.ok && choice.noneBecause).toBe(undefined);
    }
    expect(
      chooseEndpoint(
        [
          endpoint('None', 'None'),
          endpoint('SignAndEncrypt', 'Basic256Sha256'),
          endpoint('SignAndEncrypt', 'Aes128_Sha256_RsaOaep'),
        ],
        anonymous,
      ),
    ).toMatchObject({ securityMode: 'SignAndEncrypt', securityPolicy: 'Aes128_Sha256_RsaOaep' });
    expect(
      chooseEndpoint([endpoint('None', 'None'), endpoint('Sign', 'Basic256Sha256')], anonymous),
    ).toMatchObject({ securityMode: 'Sign', securityPolicy: 'Basic256Sha256' });
    // Mode before policy: SignAndEncrypt with the weakest usable policy beats Sign with the strongest.
    expect(
      chooseEndpoint(
        [endpoint('Sign', 'Aes256_Sha256_RsaPss'), endpoint('SignAndEncrypt', 'Basic256Sha256')],
        anonymous,
      ),
    ).toMatchObject({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' });
  });

  it('never picks Basic128Rsa15 or Basic256 (Node refuses them): None with the reason, or an error', () => {
    const deprecatedOnly = [endpoint('SignAndEncrypt', 'Basic128Rsa15'), endpoint('Sign', 'Basic256')];
    const withNone = chooseEndpoint([endpoint('None', 'None'), ...deprecatedOnly], anonymous);
    expect(withNone).toMatchObject({ ok: true, securityMode: 'None', securityPolicy: 'None' });
    expect(withNone.ok && withNone.noneBecause).toMatch(
      /^its secured endpoints are of no use here: SignAndEncrypt\/Basic128Rsa15 \(the policy uses SHA-1 and RSA PKCS#1 v1.5 .*refused by Node ≥ 20.11\)\); Sign\/Basic256 \(the policy uses SHA-1 signatures/,
    );

    const without = chooseEndpoint(deprecatedOnly, anonymous);
    expect(without.ok).toBe(false);
    expect(!without.ok && without.error).toMatch(
      /^securityMode auto found nothing it can connect with: SignAndEncrypt\/Basic128Rsa15 \(the policy uses SHA-1 and RSA PKCS#1 v1.5.*\); Sign\/Basic256 \(.*\)\. To fix: configure the server for SignAndEncrypt with Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss$/,
    );
    expect(without.offered).toEqual(['SignAndEncrypt/Basic128Rsa15', 'Sign/Basic256']);

    const unknown = chooseEndpoint(
      [endpoint('SignAndEncrypt', 'None', ALL_LOGINS, { securityPolicyUri: 'urn:vendor#Custom' })],
      anonymous,
    );
    expect(!unknown.ok && unknown.error).toMatch(
      /SignAndEncrypt\/Custom \(a policy this collector does not support\)/,
    );
    expect(chooseEndpoint([], anonymous)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/GetEndpoints listed no OPC UA TCP endpoint/),
    });
  });

  it('refuses to send a password when None is the only usable endpoint, with the reason', () => {
    const onlyNone = chooseEndpoint([endpoint('None', 'None')], username);
    expect(onlyNone).toEqual({
      ok: false,
      error:
        'securityMode auto refuses to send the password: the only usable endpoint is securityMode None (the server offers securityMode None only), where the password may travel unencrypted. Enable SignAndEncrypt on the server, or set allowPasswordOnUnsecuredChannel if the server encrypts the token itself',
      offered: ['None/None'],
    });
    // Told the server encrypts the token itself: allowed, as for an explicit securityMode None.
    expect(
      chooseEndpoint([endpoint('None', 'None')], { ...username, allowPasswordOnUnsecuredChannel: true }),
    ).toMatchObject({ ok: true, securityMode: 'None' });
    // A secured endpoint that takes no passwords does not count: the password would go over None.
    const noPasswordsWhenSecured = chooseEndpoint(
      [endpoint('None', 'None'), endpoint('SignAndEncrypt', 'Basic256Sha256', [UserTokenType.Anonymous])],
      username,
    );
    expect(!noPasswordsWhenSecured.ok && noPasswordsWhenSecured.error).toMatch(
      /only usable endpoint is securityMode None \(its secured endpoints are of no use here: SignAndEncrypt\/Basic256Sha256 \(accepts no username\/password login\)\)/,
    );
    // The same server is fine for an anonymous login, securely.
    expect(
      chooseEndpoint(
        [endpoint('None', 'None'), endpoint('SignAndEncrypt', 'Basic256Sha256', [UserTokenType.Anonymous])],
        anonymous,
      ),
    ).toMatchObject({ ok: true, securityMode: 'SignAndEncrypt' });
    // A password over SignAndEncrypt is the normal case.
    expect(
      chooseEndpoint(
        [endpoint('None', 'None'), endpoint('SignAndEncrypt', 'Aes128_Sha256_RsaOaep')],
        username,
      ),
    ).toMatchObject({ ok: true, securityMode: 'SignAndEncrypt', securityPolicy: 'Aes128_Sha256_RsaOaep' });
  });

  it('passes over endpoints that do not take the configured login, or another transport', () => {
    const choice = chooseEndpoint(
      [
        endpoint('None', 'None'),
        endpoint('SignAndEncrypt', 'Aes256_Sha256_RsaPss', [UserTokenType.UserName]),
        endpoint('SignAndEncrypt', 'Basic256Sha256', [UserTokenType.Certificate]),
        endpoint('SignAndEncrypt', 'Aes256_Sha256_RsaPss', ALL_LOGINS, {
          transportProfileUri: 'http://opcfoundation.org/UA-Profile/Transport/https-uabinary',
        }),
      ],
      { identity: 'certificate', allowPasswordOnUnsecuredChannel: false },
    );
    expect(choice).toMatchObject({
      ok: true,
      securityMode: 'SignAndEncrypt',
      securityPolicy: 'Basic256Sha256',
    });
    expect(choice.offered).toEqual([
      'None/None',
      'SignAndEncrypt/Aes256_Sha256_RsaPss',
      'SignAndEncrypt/Basic256Sha256',
    ]);
    // An endpoint that lists no user token policies is not held against any login.
    expect(chooseEndpoint([endpoint('SignAndEncrypt', 'Basic256Sha256', [])], username)).toMatchObject({
      ok: true,
      securityMode: 'SignAndEncrypt',
    });
    // Nothing takes the login at all: an error naming it.
    const none = chooseEndpoint([endpoint('None', 'None', [UserTokenType.UserName])], anonymous);
    expect(none).toEqual({
      ok: false,
      error:
        'securityMode auto found nothing it can connect with: None/None (accepts no anonymous login). To fix: give the endpoint an identity the server accepts',
      offered: ['None/None'],
    });
  });
});

/**
 * node-opcua reports failures as long multi-line messages or bare status names. Operators need one line
 * that says what is wrong and what to change; these rules turn the common cases into that.
 */
export interface ErrorContext {
  endpointUrl: string;
  securityMode?: string;
  securityPolicy?: string;
  /** Where this side keeps the certificates it trusts, and the ones it refused. */
  trustedFolder?: string;
  rejectedFolder?: string;
  thumbprint?: string;
}

export function describeOpcuaError(error: unknown, ctx: ErrorContext): string {
  const raw = error instanceof Error ? error.message : String(error);
  const text = raw.split('\n')[0]!.trim();
  const all = raw;
  const where = ctx.endpointUrl;
  if (/ECONNREFUSED/.test(all))
    return `${where}: connection refused (nothing listens on that port, or a firewall rejects it)`;
  if (/ENOTFOUND|EAI_AGAIN/.test(all)) return `${where}: unknown host name`;
  if (/EHOSTUNREACH|ENETUNREACH/.test(all)) return `${where}: host unreachable`;
  if (/server Certificate verification failed/i.test(all)) {
    const code = /Bad\w+/.exec(all)?.[0] ?? 'untrusted';
    const where2 =
      ctx.rejectedFolder && ctx.trustedFolder
        ? `: it was saved in ${ctx.rejectedFolder}; move it to ${ctx.trustedFolder} to trust it`
        : '';
    return `${where}: we do not trust the server's certificate (${code})${where2}`;
  }
  if (/rejected by server.*(BadSecurityChecksFailed|BadCertificate\w*)|BadCertificateUntrusted/i.test(all)) {
    const ours = ctx.thumbprint ? ` (thumbprint ${ctx.thumbprint})` : '';
    return `${where}: the server refused our application certificate${ours}: trust it on the server (its PKI trusted folder or its admin UI)`;
  }
  if (/connection may have been rejected by server/i.test(all))
    return `${where}: the connection closed before the OPC UA handshake finished (is this an OPC UA endpoint?)`;
  if (/ECONNRESET|socket has been disconnected|premature socket termination|BadConnectionClosed/i.test(all))
    return `${where}: the server closed the connection (${text})`;
  if (/timed out|timeout|BadTimeout/i.test(all)) return `${where}: no answer in time (${text})`;
  if (/invalid endpoint ?url|is_valid_endpointUrl|Invalid URL/i.test(all))
    return `${where}: not a valid OPC UA endpoint URL (expected opc.tcp://host:port[/path])`;
  if (/BadIdentityTokenRejected|BadIdentityTokenInvalid|BadUserAccessDenied/i.test(all))
    return `${where}: login refused: wrong user name or password, or the server does not accept this kind of login (${text})`;
  if (
    /BadSecurityPolicyRejected|BadSecurityModeRejected|cannot find an endpoint|cannot find endpoint|no endpoint/i.test(
      all,
    )
  )
    return `${where}: the server offers no endpoint with ${ctx.securityMode ?? '?'} / ${ctx.securityPolicy ?? '?'} (${text})`;
  if (/BadTooManySessions/.test(all)) return `${where}: the server refuses more sessions (${text})`;
  return `${where}: ${text}`;
}

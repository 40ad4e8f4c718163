import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';

export const DEFAULT_PKI_DIR = join('.local', 'opcua-pki');
export const DEFAULT_APPLICATION_NAME = 'gridstream-opcua-collector';
/**
 * Host-independent on purpose: servers pin a trusted client by certificate, and the certificate's SAN
 * must repeat the applicationUri the client presents. A hostname-based URI would make the same PKI
 * folder invalid after a container or host rename.
 */
export const DEFAULT_APPLICATION_URI = 'urn:gridstream:opcua-collector';

export interface PkiOptions {
  pkiDir?: string;
  applicationName?: string;
  applicationUri?: string;
  /** Trust every server certificate on first sight (tests, labs). Default false: unknown servers are refused. */
  autoTrustServers?: boolean;
  /** Watch trusted/ for certificates an operator drops in while the process runs. Default true. */
  watch?: boolean;
}

export interface ApplicationPki {
  readonly certificateManager: OPCUACertificateManager;
  readonly pkiDir: string;
  readonly certificateFile: string;
  readonly privateKeyFile: string;
  readonly trustedFolder: string;
  readonly rejectedFolder: string;
  readonly applicationName: string;
  readonly applicationUri: string;
  dispose(): Promise<void>;
}

/**
 * The application instance certificate and trust lists, in the standard OPC UA PKI layout
 * (own/certs, own/private, trusted/certs, rejected/certs …). The certificate is created once and then
 * reused: a server that trusted it keeps trusting the collector across restarts and upgrades.
 */
export async function openApplicationPki(options: PkiOptions = {}): Promise<ApplicationPki> {
  const pkiDir = resolve(options.pkiDir ?? DEFAULT_PKI_DIR);
  const applicationName = options.applicationName ?? DEFAULT_APPLICATION_NAME;
  const applicationUri = options.applicationUri ?? DEFAULT_APPLICATION_URI;
  const certificateManager = new OPCUACertificateManager({
    rootFolder: pkiDir,
    name: 'PKI',
    automaticallyAcceptUnknownCertificate: options.autoTrustServers ?? false,
    disableFileWatchers: options.watch === false,
  });
  await certificateManager.initialize();
  const certificateFile = join(certificateManager.rootDir, 'own', 'certs', 'client_certificate.pem');
  if (!existsSync(certificateFile)) {
    await certificateManager.createSelfSignedCertificate({
      applicationUri,
      dns: [hostname()],
      outputFile: certificateFile,
      subject: `/CN=${applicationName}/O=gridstream`,
      startDate: new Date(),
      validity: 365 * 10,
    });
  }
  return {
    certificateManager,
    pkiDir,
    certificateFile,
    privateKeyFile: certificateManager.privateKey,
    trustedFolder: certificateManager.trustedFolder,
    rejectedFolder: certificateManager.rejectedFolder,
    applicationName,
    applicationUri,
    dispose: () => certificateManager.dispose(),
  };
}

export interface CertificateInfo {
  /** SHA-1 of the DER certificate as uppercase hex: what OPC UA servers show as the thumbprint. */
  thumbprint: string;
  sha256: string;
  subject: string;
  applicationUri: string | undefined;
  validFrom: string;
  validTo: string;
}

export function certificateInfo(pemFile: string): CertificateInfo {
  const cert = new X509Certificate(readFileSync(pemFile));
  return {
    thumbprint: cert.fingerprint.replaceAll(':', ''),
    sha256: cert.fingerprint256.replaceAll(':', ''),
    subject: cert.subject.replaceAll('\n', ', '),
    applicationUri: /URI:([^,\s]+)/.exec(cert.subjectAltName ?? '')?.[1],
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
  };
}

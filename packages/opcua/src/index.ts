export {
  type ClientOptions,
  closeQuietly,
  createClient,
  type UserIdentity,
  userIdentityInfo,
  withTimeout,
} from './client.js';
export {
  type ScalarValue,
  type StatusSeverity,
  scalarOf,
  severityOf,
  usableTimestamp,
} from './data-value.js';
export { describeOpcuaError, type ErrorContext } from './errors.js';
export { routeNodeOpcuaLogs } from './logging.js';
export {
  type ApplicationPki,
  type CertificateInfo,
  certificateInfo,
  DEFAULT_APPLICATION_NAME,
  DEFAULT_APPLICATION_URI,
  DEFAULT_PKI_DIR,
  openApplicationPki,
  type PkiOptions,
} from './pki.js';
export {
  joinBrowsePath,
  type NodeRef,
  type PathSegment,
  parseBrowsePath,
  type Resolution,
  resolveNodeRefs,
} from './resolve.js';
export {
  DEPRECATED_SECURITY_POLICIES,
  messageSecurityMode,
  SECURITY_MODE_NAMES,
  SECURITY_POLICY_NAMES,
  type SecurityModeName,
  SecurityModeSchema,
  type SecurityPolicyName,
  SecurityPolicySchema,
  securityPolicy,
  shortPolicyName,
} from './security.js';

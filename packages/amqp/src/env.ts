import { envInt, envList } from '@gridstream/config';
import { z } from 'zod';

export const AMQP_EXCHANGE_TYPES = ['topic', 'direct', 'fanout'] as const;
export type AmqpExchangeType = (typeof AMQP_EXCHANGE_TYPES)[number];
export const AMQP_QUEUE_TYPES = ['classic', 'quorum'] as const;
export type AmqpQueueType = (typeof AMQP_QUEUE_TYPES)[number];

const AmqpUrl = z
  .string()
  .trim()
  .default('amqp://127.0.0.1:5672')
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      // The value itself is not echoed: it may carry a password.
      ctx.addIssue({ code: 'custom', message: 'is not a URL (expected amqp://host:port/vhost)' });
      return;
    }
    if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') {
      ctx.addIssue({ code: 'custom', message: `must start with amqp:// or amqps://, not ${url.protocol}//` });
    }
    if (url.hostname === '') ctx.addIssue({ code: 'custom', message: 'has no host' });
  });

/**
 * Environment variables of every process that talks to RabbitMQ. Services merge the shape into their own
 * schema (`z.object({ ...amqpEnvShape, BRIDGE_X: ... })`) so loadConfig reports every bad variable at once.
 * `AMQP_PASSWORD_FILE` needs no entry: loadConfig fills `<NAME>` from `<NAME>_FILE` for declared variables.
 */
export const amqpEnvShape = {
  /** Broker address; credentials in it are accepted but AMQP_USERNAME / AMQP_PASSWORD(_FILE) win. */
  AMQP_URL: AmqpUrl,
  AMQP_USERNAME: z.string().optional(),
  /** Or AMQP_PASSWORD_FILE (a mounted secret), read by loadConfig. */
  AMQP_PASSWORD: z.string().optional(),
  AMQP_EXCHANGE: z.string().trim().min(1).default('microgrid'),
  AMQP_EXCHANGE_TYPE: z.enum(AMQP_EXCHANGE_TYPES).default('topic'),
  /** Binding key(s) of the queue, comma-separated (`site.000001,site.000002`); ignored by fanout exchanges. */
  AMQP_ROUTING_KEY: envList('#'),
  AMQP_QUEUE: z.string().trim().min(1).default('gridstream.microgrid'),
  /** Unacked deliveries the broker may push ahead; below the batch size, batches never fill. */
  AMQP_PREFETCH: envInt(1000, { min: 1, max: 65_535 }),
  AMQP_QUEUE_TYPE: z.enum(AMQP_QUEUE_TYPES).default('classic'),
  /**
   * For amqps:// only: PEM text of the CA that signed the broker's certificate (else the system's CAs), and
   * this client's certificate and key for brokers that require one (RabbitMQ `ssl_options.verify =
   * verify_peer` with `fail_if_no_peer_cert = true`). Each also from a file: AMQP_TLS_CA_FILE,
   * AMQP_TLS_CERT_FILE, AMQP_TLS_KEY_FILE.
   */
  AMQP_TLS_CA: z.string().optional(),
  AMQP_TLS_CERT: z.string().optional(),
  AMQP_TLS_KEY: z.string().optional(),
  /** Passphrase of an encrypted AMQP_TLS_KEY. */
  AMQP_TLS_KEY_PASSWORD: z.string().optional(),
  /** The name the broker's certificate must carry when it differs from the URL's host (SNI and the check). */
  AMQP_TLS_SERVERNAME: z.string().trim().min(1).optional(),
};

type AmqpTlsEnv = Pick<
  z.infer<z.ZodObject<typeof amqpEnvShape>>,
  | 'AMQP_URL'
  | 'AMQP_TLS_CA'
  | 'AMQP_TLS_CERT'
  | 'AMQP_TLS_KEY'
  | 'AMQP_TLS_KEY_PASSWORD'
  | 'AMQP_TLS_SERVERNAME'
>;

/**
 * Cross-field checks of the AMQP_* variables, for every schema that merges amqpEnvShape (call it from the
 * service's superRefine): TLS settings with a plain amqp:// URL would be silently unused — the operator
 * believes the link is encrypted and it is not — and a certificate without its key cannot be presented.
 */
export function checkAmqpEnv(cfg: AmqpTlsEnv, ctx: z.RefinementCtx): void {
  const tls = cfg.AMQP_URL.startsWith('amqps:');
  if (!tls) {
    for (const name of [
      'AMQP_TLS_CA',
      'AMQP_TLS_CERT',
      'AMQP_TLS_KEY',
      'AMQP_TLS_KEY_PASSWORD',
      'AMQP_TLS_SERVERNAME',
    ] as const) {
      if (cfg[name] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'is set, so AMQP_URL must start with amqps://',
        });
    }
  }
  if ((cfg.AMQP_TLS_CERT === undefined) !== (cfg.AMQP_TLS_KEY === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [cfg.AMQP_TLS_CERT === undefined ? 'AMQP_TLS_CERT' : 'AMQP_TLS_KEY'],
      message: 'a client certificate needs both AMQP_TLS_CERT and AMQP_TLS_KEY',
    });
  }
}

export const amqpEnvSchema = z.object(amqpEnvShape).superRefine(checkAmqpEnv);
export type AmqpEnv = z.infer<typeof amqpEnvSchema>;

/** Where and how to connect. Holds the password: never log this object, log `describeAmqpUrl()` instead. */
export interface AmqpConnectionConfig {
  protocol: 'amqp' | 'amqps';
  hostname: string;
  port: number;
  /** Still percent-encoded, as in the URL path (amqplib decodes it). */
  vhost: string;
  username: string;
  password: string;
  /** Seconds; 0 disables. A dead TCP peer (broker host gone) is noticed after about twice this. */
  heartbeat: number;
  /** amqps:// only: what the TLS handshake uses besides the system's CAs. */
  tls?: { ca?: string; cert?: string; key?: string; passphrase?: string; servername?: string };
}

export interface AmqpTopologyConfig {
  exchange: string;
  exchangeType: AmqpExchangeType;
  /** Binding keys of the queue on the exchange. */
  routingKeys: string[];
  queue: string;
  queueType: AmqpQueueType;
}

export interface AmqpConfig {
  connection: AmqpConnectionConfig;
  topology: AmqpTopologyConfig;
  prefetch: number;
}

/** Turns validated env vars into connection settings. Only the AMQP_* keys are read. */
export function amqpConfigFromEnv(env: AmqpEnv): AmqpConfig {
  const url = new URL(env.AMQP_URL);
  const protocol = url.protocol === 'amqps:' ? 'amqps' : 'amqp';
  const heartbeatParam = url.searchParams.get('heartbeat');
  const heartbeat = heartbeatParam === null ? 30 : Number.parseInt(heartbeatParam, 10);
  return {
    connection: {
      protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(url.port),
      vhost: url.pathname.length > 1 ? url.pathname.slice(1) : '/',
      username: env.AMQP_USERNAME ?? (url.username === '' ? 'guest' : decodeURIComponent(url.username)),
      password: env.AMQP_PASSWORD ?? (url.password === '' ? 'guest' : decodeURIComponent(url.password)),
      heartbeat: Number.isFinite(heartbeat) && heartbeat >= 0 ? heartbeat : 30,
      ...(protocol === 'amqps' ? { tls: tlsOf(env) } : {}),
    },
    topology: {
      exchange: env.AMQP_EXCHANGE,
      exchangeType: env.AMQP_EXCHANGE_TYPE,
      routingKeys: env.AMQP_ROUTING_KEY,
      queue: env.AMQP_QUEUE,
      queueType: env.AMQP_QUEUE_TYPE,
    },
    prefetch: env.AMQP_PREFETCH,
  };
}

function tlsOf(env: AmqpTlsEnv): NonNullable<AmqpConnectionConfig['tls']> {
  return {
    ...(env.AMQP_TLS_CA === undefined ? {} : { ca: env.AMQP_TLS_CA }),
    ...(env.AMQP_TLS_CERT === undefined ? {} : { cert: env.AMQP_TLS_CERT }),
    ...(env.AMQP_TLS_KEY === undefined ? {} : { key: env.AMQP_TLS_KEY }),
    ...(env.AMQP_TLS_KEY_PASSWORD === undefined ? {} : { passphrase: env.AMQP_TLS_KEY_PASSWORD }),
    ...(env.AMQP_TLS_SERVERNAME === undefined ? {} : { servername: env.AMQP_TLS_SERVERNAME }),
  };
}

/** `amqp://user@host:port/vhost` without the password: for logs, the `gs-source` header and readiness output. */
export function describeAmqpUrl(connection: AmqpConnectionConfig): string {
  const user = connection.username === '' ? '' : `${encodeURIComponent(connection.username)}@`;
  const host = connection.hostname.includes(':') ? `[${connection.hostname}]` : connection.hostname;
  const vhost = connection.vhost === '/' ? '' : `/${connection.vhost}`;
  return `${connection.protocol}://${user}${host}:${connection.port}${vhost}`;
}

import type * as Zod from 'zod';

import { isValidCidr } from '../lib/cidr.js';
import { tryParseDuration, tryParseSize } from '../lib/units.js';

/*
 * The configuration schema of docs/behaviour.md §2. Keys keep their YAML spelling (snake_case) so that an
 * error path is exactly what the operator typed. Sizes become bytes and durations milliseconds here, once.
 * Values from the environment arrive as strings, so scalar fields accept the string form of their type.
 */

export const RETRY_CLASSES = ['busy', 'no_answer', 'dropped', 'channel_limit'] as const;

/** Telnyx's `quality` values for POST /faxes (its API reference lists exactly these). */
export const FAX_QUALITIES = ['normal', 'high', 'very_high', 'ultra_light', 'ultra_dark'] as const;

/** Placeholders a header line may use; any other `{word}` is a typo the operator should hear about. */
export const HEADER_PLACEHOLDERS = [
  'date',
  'time',
  'from_name',
  'from_number',
  'to_number',
  'page',
  'pages',
] as const;

/**
 * Builds the schema with the zod it is given. Only loading the configuration needs zod, so loadConfig loads it
 * for that and lets it go afterwards (src/config/configLibraries.ts): the schema is not kept either.
 */
export function makeConfigSchema(z: typeof Zod.z) {
  const size = z.union([z.string(), z.number()]).transform((value, ctx) => {
    const bytes = tryParseSize(value);
    if (bytes === null) {
      ctx.addIssue({ code: 'custom', message: `not a size: ${String(value)} (write e.g. 20MB, 512KB)` });
      return z.NEVER;
    }
    return bytes;
  });

  const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = tryParseDuration(value);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `not a duration: ${String(value)} (write e.g. 25s, 5m, 24h)` });
      return z.NEVER;
    }
    return ms;
  });

  const bool = z.union([
    z.boolean(),
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  ]);

  const int = (min: number, max: number) =>
    z
      .union([z.number(), z.string().regex(/^\d+$/, 'expected a whole number').transform(Number)])
      .pipe(z.number().int('expected a whole number').min(min).max(max));

  /** YAML turns an unquoted +15550001111 into a number and rounds 19-digit ids; insist on quotes. */
  const quoted = (what: string) =>
    z.unknown().transform((value, ctx) => {
      if (typeof value === 'string') return value;
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be a quoted string (write "${String(value)}" in quotes, YAML reads it as a number)`,
      });
      return z.NEVER;
    });

  const e164 = quoted('a phone number').pipe(
    z.string().regex(/^\+[1-9]\d{7,14}$/, 'expected an E.164 number such as "+15550001111"'),
  );

  /** Lists may come from the environment as comma-separated text. */
  const stringList = (item: Zod.ZodType<string> = z.string().min(1)) =>
    z.preprocess(
      (value) =>
        typeof value === 'string'
          ? value
              .split(',')
              .map((part) => part.trim())
              .filter(Boolean)
          : value,
      z.array(item),
    );

  const listen = z.string().transform((value, ctx) => {
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
    const port = match ? Number(match[3]) : NaN;
    if (!match || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `expected host:port such as 127.0.0.1:2525, got ${value}` });
      return z.NEVER;
    }
    return { host: (match[1] ?? match[2])!, port };
  });

  const email = z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'expected an email address');
  const countryCode = z
    .string()
    .regex(/^[A-Z]{2}$/, 'expected an ISO 3166 two-letter country code such as US');

  const cidr = z.string().refine(isValidCidr, 'expected an address or CIDR range such as 10.0.0.0/8');
  const senderPattern = z.string().regex(/^(\*|[^\s@]+)@[^\s@]+$/, 'expected an address or *@domain');

  const quality = z.enum(FAX_QUALITIES);

  const headerText = z
    .string()
    .min(1)
    .max(200, 'keep the header line under 200 characters: it must fit on one line')
    .refine(
      (text) =>
        [...text.matchAll(/\{(\w+)\}/g)].every((m) =>
          (HEADER_PLACEHOLDERS as readonly string[]).includes(m[1]!),
        ),
      `unknown placeholder; use ${HEADER_PLACEHOLDERS.map((name) => `{${name}}`).join(' ')}`,
    );

  return z.strictObject({
    data_dir: z.string().default('./var'),
    timezone: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'unknown time zone (use an IANA name such as Europe/Berlin)')
      .default('UTC'),
    smtp: z
      .strictObject({
        listen: listen.default({ host: '127.0.0.1', port: 2525 }),
        /** Host name in the greeting and receipts' Received lines. */
        hostname: z.string().optional(),
        domains: stringList(z.string().regex(/^[a-z0-9.-]+$/i, 'expected a domain name')).optional(),
        default_country: countryCode.default('US'),
        allowed_countries: z
          .union([z.literal('*'), stringList(z.union([countryCode, z.literal('*')]))])
          .optional(),
        blocked_prefixes: stringList(
          z.string().regex(/^\+\d{1,15}$/, 'expected a prefix such as "+1900"'),
        ).optional(),
        max_recipients: int(1, 1000).default(50),
        max_message_size: size.prefault('70MB'),
        allowed_clients: stringList(cidr).default([
          '127.0.0.0/8',
          '::1/128',
          '10.0.0.0/8',
          '172.16.0.0/12',
          '192.168.0.0/16',
        ]),
        tls: z.strictObject({ cert: z.string(), key: z.string() }).optional(),
        /** A second listener speaking TLS from the first byte (port 465 style); needs `tls`. */
        tls_listen: listen.optional(),
        require_tls: bool.default(false),
        /** AUTH on a connection without TLS: only for a listener behind a TLS-terminating proxy or on loopback. */
        allow_insecure_auth: bool.default(false),
        auth: z
          .array(
            z.strictObject({
              user: z.string().min(1),
              password_hash: z.string().min(1),
              /** Header From / MAIL FROM addresses this user may send as; default: the user name itself. */
              send_as: stringList(senderPattern).optional(),
            }),
          )
          .default([]),
        /** relay: mail from the office's server (DMARC-checked unless trusted); submission: AUTH required. */
        mode: z.enum(['relay', 'submission']).default('relay'),
        /**
         * The office's own mail servers: they checked their senders, so their mail skips SPF/DKIM/DMARC.
         * Default loopback; in sandbox every client (sandbox restricts no sender), see loadConfig.
         */
        trusted_relays: stringList(cidr).optional(),
        /**
         * Acknowledges a relay-mode listener reachable from other hosts whose allowed_clients or trusted_relays
         * include every address (0.0.0.0/0, ::/0); without it such a config is refused outside sandbox.
         */
        allow_open_access: bool.default(false),
        max_clients: int(1, 100_000).default(100),
        /** Sessions one client address may hold at once; trusted relays are exempt. */
        max_clients_per_address: int(1, 100_000).default(10),
        /** Of max_clients, the slots only trusted relays may use; default a fifth of max_clients. */
        relay_slots: int(0, 100_000).optional(),
        /** New connections per client address per minute (trusted relays are exempt); 0 turns it off. */
        connections_per_minute: int(0, 1_000_000).default(60),
        /** Idle time allowed while the client owes us a command or data. */
        socket_timeout: duration.prefault('1m'),
        /** Longest a DATA transfer may take, however slowly the bytes trickle in. */
        data_timeout: duration.prefault('15m'),
      })
      .prefault({}),
    /** Per-sender limits (header From address); 0 means no limit. Defaults: none in sandbox, 60/h and 1000/day. */
    limits: z
      .strictObject({
        faxes_per_hour: int(0, 1_000_000).optional(),
        pages_per_day: int(0, 100_000_000).optional(),
      })
      .prefault({}),
    http: z
      .strictObject({
        listen: listen.default({ host: '127.0.0.1', port: 8080 }),
        public_url: z.url('expected a URL such as https://fax.example.com').optional(),
        /** HMAC key for media and document links; generated into data_dir when absent (single instance). */
        url_secret: z.string().min(16, 'use at least 16 characters').optional(),
      })
      .prefault({}),
    telnyx: z
      .strictObject({
        api_url: z.url().default('https://api.telnyx.com/v2'),
        api_key: z.string().min(1).optional(),
        public_key: z.string().optional(),
        connection_id: quoted('connection_id').optional(),
        request_timeout: duration.prefault('30s'),
        /**
         * Non-public networks a received fax's media_url may point into (there, http is accepted too). Outside
         * sandbox every other private, loopback or link-local address is refused, and links must be https.
         */
        inbound_media_networks: stringList(cidr).default([]),
        /** The fax resolution asked of Telnyx when neither a subject tag nor the sender's entry says. */
        quality: quality.default('high'),
        /** Faxes being handed to Telnyx at once by this instance; Telnyx allows 2,000 processing at once. */
        concurrency: int(1, 2000).default(16),
      })
      .prefault({}),
    senders: z
      .array(
        z.strictObject({
          match: z.string().regex(/^(\*|[^\s@]+)@[^\s@]+$/, 'expected an address or *@domain'),
          from_number: e164,
          /** Shown as {from_name} and on the cover page; default header.sender_name. */
          name: z.string().min(1).max(100).optional(),
          /** A cover page unless the subject says [nocover]; default cover.default. */
          cover: bool.optional(),
          quality: quality.optional(),
        }),
      )
      .default([]),
    inbound: z
      .array(
        z.strictObject({
          number: quoted('number').pipe(
            z.string().regex(/^(\*|\+[1-9]\d{7,14})$/, 'expected an E.164 number or "*"'),
          ),
          deliver_to: stringList(email).pipe(z.array(email).min(1, 'name at least one address')),
          mode: z.enum(['attach', 'link', 'notice']).default('attach'),
        }),
      )
      .default([]),
    admin: stringList(email).default([]),
    mail: z
      .strictObject({
        from: z.string().optional(),
        smtp_url: z.url('expected smtp://host:port or smtps://host:port').optional(),
        max_attachment_size: size.prefault('20MB'),
        /** Subject templates with {placeholders} (src/mail/templates.ts); each defaults to docs/behaviour.md's text. */
        subjects: z
          .strictObject({
            accepted: z.string().min(1).optional(),
            delivered: z.string().min(1).optional(),
            failed: z.string().min(1).optional(),
            inbound: z.string().min(1).optional(),
            inbound_failed: z.string().min(1).optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    receipts: z
      .strictObject({
        on_accepted: bool.default(false),
        on_delivered: bool.default(true),
        on_failed: bool.default(true),
      })
      .prefault({}),
    retry: z
      .strictObject({
        max_attempts: int(1, 10).default(3),
        delays: z
          .strictObject({
            busy: duration.prefault('3m'),
            no_answer: duration.prefault('5m'),
            dropped: duration.prefault('2m'),
            channel_limit: duration.prefault('1m'),
          })
          .prefault({}),
        api_give_up: duration.prefault('24h'),
        final_event_timeout: duration.prefault('15m'),
      })
      .prefault({}),
    retention: z.strictObject({ days: int(0, 36500).default(30) }).prefault({}),
    storage: z
      .strictObject({
        driver: z.enum(['local', 's3']).default('local'),
        url_ttl: duration.prefault('6h'),
        s3: z
          .strictObject({
            bucket: z.string().min(1),
            prefix: z.string().default(''),
            region: z.string().default('us-east-1'),
            endpoint: z.url().optional(),
            force_path_style: bool.default(false),
            server_side_encryption: z.enum(['AES256', 'aws:kms']).optional(),
          })
          .optional(),
      })
      .prefault({}),
    database: z.strictObject({ url: z.string().optional() }).prefault({}),
    /** How attachments become fax pages. */
    documents: z
      .strictObject({
        /** Default: letter when smtp.default_country dials +1, else a4 (see loadConfig). */
        paper: z.enum(['letter', 'a4']).optional(),
        /** local: LibreOffice on this machine; off: Office files refused; or the http(s) URL of a Gotenberg. */
        office: z
          .string()
          .refine(
            (value) => value === 'local' || value === 'off' || /^https?:\/\/[^\s/]+/i.test(value),
            'expected local, off or the http(s) URL of a Gotenberg service',
          )
          .default('local'),
        convert_timeout: duration.prefault('60s'),
      })
      .prefault({}),
    /** The web console under {http.listen}/console/ (src/console). */
    console: z
      .strictObject({
        /** Default: on in sandbox, and wherever a way to sign in (users or trusted_header) is configured. */
        enabled: bool.optional(),
        users: z
          .array(
            z.strictObject({
              email: email.transform((value) => value.toLowerCase()),
              /** A `faxbridge hash-password` hash; without one the user can only come through trusted_header. */
              password_hash: z.string().min(1).optional(),
              /** `admin` sees every fax and the audit log (console only; the top-level `admin` gets notices). */
              role: z.enum(['user', 'admin']).default('user'),
            }),
          )
          .default([]),
        /** Header a sign-in proxy sets to the signed-in email (e.g. X-Forwarded-Email). */
        trusted_header: z
          .string()
          .regex(/^[A-Za-z0-9-]+$/, 'expected a header name such as X-Forwarded-Email')
          .optional(),
        /** Only requests from these addresses may carry trusted_header; from anywhere else it is ignored. */
        trusted_proxies: stringList(cidr).default([]),
      })
      .prefault({}),
    shutdown_grace: duration.prefault('25s'),
    cover: z
      .strictObject({
        default: bool.default(false),
        /** Printed on every cover page (a confidentiality notice, typically). */
        notice: z.string().max(1000).optional(),
        /** PNG or JPEG shown at the top of the built-in cover page. */
        logo: z.string().min(1).optional(),
        /** A PDF whose form fields are filled and flattened instead of the built-in layout. */
        template: z.string().min(1).optional(),
      })
      .prefault({}),
    header: z
      .strictObject({
        enabled: bool.default(true),
        text: headerText.default(
          '{date} {time}  FROM: {from_name}  {from_number}  TO: {to_number}  P.{page}/{pages}',
        ),
        /** {from_name} for senders whose entry has no `name`. */
        sender_name: z.string().min(1).max(100).optional(),
      })
      .prefault({}),
  });
}

export type ConfigSchema = ReturnType<typeof makeConfigSchema>;
export type RawConfig = Zod.output<ConfigSchema>;

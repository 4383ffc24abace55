import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { z } from 'zod';

import { isNanpCountry } from '../domain/nanpCountries.js';
import { FaxError } from '../errors.js';
import { type ConfigLibraries, withConfigLibraries } from './configLibraries.js';
import { checkCrossKeyRules } from './crossKeyRules.js';
import { makeConfigSchema, type RawConfig } from './schema.js';
import type { Config, ConfigProblem, LoadedConfig } from './types.js';

export type { Config, ConfigProblem, LoadedConfig } from './types.js';

/**
 * Premium-rate, revenue-share and similar ranges dialled at a caller's expense (toll fraud pays the fraudster per
 * minute); the operator's list is added to these. Most only matter once `allowed_countries` opens the country.
 */
export const DEFAULT_BLOCKED_PREFIXES = [
  // North America: 900 premium, 976 pay-per-call.
  '+1900',
  '+1976',
  // UK: 087x revenue-share, 09 premium, 070 personal and 076 pager numbers (both common in fraud).
  '+44870',
  '+44871',
  '+44872',
  '+44873',
  '+4490',
  '+4491',
  '+4498',
  '+4470',
  '+4476',
  // France 0897/0899, Germany 0900 and 0137 (tele-voting), Italy 892/899, Spain 803/806/807/905.
  '+33897',
  '+33899',
  '+49900',
  '+49137',
  '+39892',
  '+39899',
  '+34803',
  '+34806',
  '+34807',
  '+34905',
  // Netherlands 0900/0906/0909, Belgium 090x, Austria 0900/0901/0930/0931/0939, Switzerland 0900/0901/0906.
  '+31900',
  '+31906',
  '+31909',
  '+3290',
  '+43900',
  '+43901',
  '+43930',
  '+43931',
  '+43939',
  '+41900',
  '+41901',
  '+41906',
  // Satellite and international networks (Inmarsat, Iridium, Thuraya…), international premium rate (+979).
  '+870',
  '+881',
  '+882',
  '+883',
  '+979',
];

const ENV_PREFIX = 'FAXBRIDGE_';
const TELNYX_ENV: Record<string, string> = {
  TELNYX_API_URL: 'api_url',
  TELNYX_API_KEY: 'api_key',
  TELNYX_PUBLIC_KEY: 'public_key',
  TELNYX_CONNECTION_ID: 'connection_id',
};

/**
 * Reads the YAML file (if any), lays the environment over it, validates everything and applies the cross-key
 * rules. Throws a FaxError('config') whose `problems` list names every bad key. `letLibrariesGo`: yaml and zod are
 * not needed again in this process (`faxbridge start`, configLibraries.ts).
 */
export function loadConfig(
  file: string | null,
  env: NodeJS.ProcessEnv = process.env,
  { letLibrariesGo = false }: { letLibrariesGo?: boolean } = {},
): LoadedConfig {
  const problems: ConfigProblem[] = [];
  const parsed = withConfigLibraries(
    (libraries) => {
      const raw = readYaml(libraries, file, problems);
      applyEnvironment(raw, env);
      const result = makeConfigSchema(libraries.z).safeParse(raw);
      if (!result.success) problems.push(...result.error.issues.map(issueToProblem));
      return result.success ? result.data : null;
    },
    { letGo: letLibrariesGo },
  );
  if (problems.length > 0 || !parsed) throw new ConfigError(problems);

  const baseDir = file ? path.dirname(path.resolve(file)) : process.cwd();
  const config = finish(parsed, baseDir, file);
  const checked = checkCrossKeyRules(config, parsed.http.public_url !== undefined);
  if (checked.problems.length > 0) throw new ConfigError(checked.problems);
  return { config: deepFreeze(config), warnings: checked.warnings };
}

export class ConfigError extends FaxError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super('config', problems.map((p) => `${p.key}: ${p.message}`).join('\n'));
    this.problems = problems;
  }
}

function readYaml(
  { parseDocument }: ConfigLibraries,
  file: string | null,
  problems: ConfigProblem[],
): Record<string, unknown> {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push({ key: '(file)', message: `cannot read ${file}: ${(error as Error).message}` });
    return {};
  }
  const doc = parseDocument(text, { prettyErrors: true, intAsBigInt: true });
  for (const error of doc.errors) problems.push({ key: '(yaml)', message: error.message.split('\n')[0]! });
  // intAsBigInt keeps a 19-digit id exact so the "must be quoted" message can echo it; bigints become numbers
  // again for ordinary integer keys.
  const value = normaliseBigInts(doc.toJS()) as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ key: '(file)', message: 'the configuration must be a YAML mapping of keys' });
    return {};
  }
  return value as Record<string, unknown>;
}

function normaliseBigInts(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : new UnsafeInteger(value);
  }
  if (Array.isArray(value)) return value.map(normaliseBigInts);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normaliseBigInts(v)]));
  }
  return value;
}

/** An integer too long for a JS number: never a valid value, but its error message must show the exact digits. */
class UnsafeInteger {
  constructor(private readonly value: bigint) {}
  toString(): string {
    return this.value.toString();
  }
}

/** FAXBRIDGE_HTTP__PUBLIC_URL sets http.public_url; the environment wins over the file (docs/behaviour.md §2). */
function applyEnvironment(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (name in TELNYX_ENV) {
      setPath(raw, ['telnyx', TELNYX_ENV[name]!], value);
    } else if (name.startsWith(ENV_PREFIX) && name !== 'FAXBRIDGE_CONFIG') {
      setPath(raw, name.slice(ENV_PREFIX.length).toLowerCase().split('__'), value);
    }
  }
}

function setPath(target: Record<string, unknown>, keys: string[], value: string): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function issueToProblem(issue: z.core.$ZodIssue): ConfigProblem {
  const key = issue.path.map(String).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return {
      key: [...issue.path.map(String), issue.keys.join(', ')].filter(Boolean).join('.'),
      message: 'unknown key',
    };
  }
  return { key, message: issue.message };
}

function finish(raw: RawConfig, baseDir: string, file: string | null): Config {
  const sandbox = !raw.telnyx.api_key;
  const dataDir = path.resolve(baseDir, raw.data_dir);
  const domains = raw.smtp.domains && raw.smtp.domains.length > 0 ? raw.smtp.domains : ['fax.localhost'];
  const allowed = raw.smtp.allowed_countries;
  const publicUrl = (
    raw.http.public_url ?? `http://${hostForUrl(raw.http.listen.host)}:${raw.http.listen.port}`
  ).replace(/\/+$/, '');
  return {
    ...raw,
    sandbox,
    config_file: file ? path.resolve(file) : null,
    data_dir: dataDir,
    smtp: {
      ...raw.smtp,
      hostname: raw.smtp.hostname ?? domains[0]!,
      domains: domains.map((d) => d.toLowerCase()),
      allowed_countries:
        allowed === undefined ? [raw.smtp.default_country] : allowed === '*' ? ['*'] : allowed,
      blocked_prefixes: [...new Set([...DEFAULT_BLOCKED_PREFIXES, ...(raw.smtp.blocked_prefixes ?? [])])],
      // Sandbox lets every sender fax, so it authenticates none (a Docker host reaches it from 172.x, not
      // loopback); for real, only this host's own mail server is trusted until the operator lists others.
      trusted_relays:
        raw.smtp.trusted_relays ?? (sandbox ? ['0.0.0.0/0', '::/0'] : ['127.0.0.0/8', '::1/128']),
      tls: raw.smtp.tls && {
        cert: path.resolve(baseDir, raw.smtp.tls.cert),
        key: path.resolve(baseDir, raw.smtp.tls.key),
      },
    },
    http: { ...raw.http, public_url: publicUrl, public_url_derived: raw.http.public_url === undefined },
    mail: { ...raw.mail, from: raw.mail.from ?? `Fax <fax@${domains[0]}>` },
    database: { url: resolveDatabaseUrl(raw.database.url, baseDir, dataDir) },
    documents: { ...raw.documents, paper: raw.documents.paper ?? defaultPaper(raw.smtp.default_country) },
    cover: {
      ...raw.cover,
      logo: raw.cover.logo && path.resolve(baseDir, raw.cover.logo),
      template: raw.cover.template && path.resolve(baseDir, raw.cover.template),
    },
    // The simulator costs nothing, so sandbox has no limits unless asked; real faxes cost money.
    limits: {
      faxes_per_hour: raw.limits.faxes_per_hour ?? (sandbox ? 0 : 60),
      pages_per_day: raw.limits.pages_per_day ?? (sandbox ? 0 : 1000),
    },
  };
}

/** The +1 countries (US, Canada, the Caribbean) use Letter paper; nearly everyone else uses A4. */
function defaultPaper(country: string): 'letter' | 'a4' {
  return isNanpCountry(country) ? 'letter' : 'a4';
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function resolveDatabaseUrl(url: string | undefined, baseDir: string, dataDir: string): string {
  if (!url) return `sqlite:${path.join(dataDir, 'faxbridge.db')}`;
  if (url.startsWith('sqlite:')) return `sqlite:${path.resolve(baseDir, url.slice('sqlite:'.length))}`;
  return url;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

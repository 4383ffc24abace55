/*
 * The configuration as the daemon sees it, in a file of its own so that the rule modules (crossKeyRules,
 * securityRules) and loadConfig can all use it without importing each other in a circle.
 */
import type { RawConfig } from './schema.js';

/** A validated, frozen configuration with the sandbox decision and derived defaults applied. */
export interface Config extends RawConfig {
  /** No Telnyx API key anywhere: the built-in simulator stands in for Telnyx (docs/behaviour.md §1). */
  sandbox: boolean;
  /** The file the config came from (null when running on defaults and environment only). */
  config_file: string | null;
  smtp: RawConfig['smtp'] & {
    domains: string[];
    allowed_countries: string[];
    blocked_prefixes: string[];
    hostname: string;
    trusted_relays: string[];
  };
  /** public_url was not configured but derived from http.listen (sandbox and tests). */
  http: RawConfig['http'] & { public_url: string; public_url_derived: boolean };
  mail: RawConfig['mail'] & { from: string };
  /** Paper size resolved from the default country when not set (Letter for +1 countries, A4 elsewhere). */
  documents: RawConfig['documents'] & { paper: 'letter' | 'a4' };
  database: { url: string };
  /** Per-sender limits with their defaults applied; 0 means no limit. */
  limits: { faxes_per_hour: number; pages_per_day: number };
}

export interface ConfigProblem {
  key: string;
  message: string;
}

export interface LoadedConfig {
  config: Config;
  warnings: ConfigProblem[];
}

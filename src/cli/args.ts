import { parseArgs } from 'node:util';

import { UsageError } from './io.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

/**
 * node:util parseArgs in strict mode, with `--help`/`-h` on every command and unknown options turned into a
 * UsageError (exit 2) instead of a stack trace.
 */
export function parseCommandArgs(
  args: string[],
  options: OptionSpec,
  positionals: { min: number; max: number },
) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const help = parsed.values.help === true;
  if (!help && parsed.positionals.length < positionals.min) throw new UsageError('missing argument');
  if (!help && parsed.positionals.length > positionals.max) {
    throw new UsageError(`unexpected argument: ${parsed.positionals[positionals.max]}`);
  }
  return { values: parsed.values, positionals: parsed.positionals, help } as ParsedArgs;
}

export function stringOption(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(parsed: ParsedArgs, name: string): string[] {
  const value = parsed.values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

/** `--config FILE`, else FAXBRIDGE_CONFIG, else none (defaults and environment only: sandbox under ./var). */
export function configFileOf(parsed: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string | null {
  return stringOption(parsed, 'config') ?? env.FAXBRIDGE_CONFIG ?? null;
}

export const CONFIG_OPTION: OptionSpec = { config: { type: 'string', short: 'c' } };

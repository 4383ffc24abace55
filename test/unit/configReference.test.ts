import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';

import { makeConfigSchema } from '../../src/config/schema.js';

/*
 * Keeps the operator's documentation in step with the schema: every key path of src/config/schema.ts must be a
 * row of the README's configuration reference and must appear in config/faxbridge.example.yaml (commented out
 * is fine), and the README must not document keys that no longer exist.
 */

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const EXAMPLE = readFileSync(new URL('../../config/faxbridge.example.yaml', import.meta.url), 'utf8');
/** Array items are written `senders[].match`. */
const ITEM = '[]';

/** Every key path of the schema, objects included: `smtp`, `smtp.listen`, `senders[].match`, … */
function schemaKeyPaths(schema: z.ZodType): string[] {
  const paths = new Set<string>();
  const walk = (node: z.ZodType, prefix: string): void => {
    const def = (node as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
    switch (def.type) {
      case 'object':
        for (const [key, child] of Object.entries(def.shape as Record<string, z.ZodType>)) {
          const path = prefix ? `${prefix}.${key}` : key;
          paths.add(path);
          walk(child, path);
        }
        break;
      case 'default':
      case 'prefault':
      case 'optional':
      case 'nullable':
        walk(def.innerType as z.ZodType, prefix);
        break;
      case 'pipe':
        walk(def.in as z.ZodType, prefix);
        walk(def.out as z.ZodType, prefix);
        break;
      case 'array':
        walk(def.element as z.ZodType, `${prefix}${ITEM}`);
        break;
      case 'union':
        for (const option of def.options as z.ZodType[]) walk(option, prefix);
        break;
      default:
        break;
    }
  };
  walk(schema, '');
  return [...paths].sort();
}

/** First-column `code` of every row under the README's "Configuration reference" heading. */
function readmeReferenceKeys(): string[] {
  const start = README.search(/^## Configuration reference$/m);
  expect(start, 'README has a "## Configuration reference" section').toBeGreaterThanOrEqual(0);
  const rest = README.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

/**
 * The example with its commented-out keys switched on (`# api_key: ...` → `api_key: ...`), so optional keys
 * shown as comments count as documented; then every key path of the parsed result.
 */
function exampleKeyPaths(): Set<string> {
  const uncommented = EXAMPLE.split('\n')
    .map((line) => {
      const match = /^(\s*)# ?(\s*[a-z_0-9]+:(\s.*)?)$/.exec(line);
      return match ? `${match[1]}${match[2]}` : line;
    })
    .join('\n');
  const paths = new Set<string>();
  const walk = (value: unknown, prefix: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, `${prefix}${ITEM}`);
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const path = prefix ? `${prefix}.${key}` : key;
        paths.add(path);
        walk(child, path);
      }
    }
  };
  walk(parse(uncommented), '');
  return paths;
}

describe('configuration reference', () => {
  const schemaPaths = schemaKeyPaths(makeConfigSchema(z));

  it('finds the schema keys (the walker itself works)', () => {
    expect(schemaPaths).toContain('smtp.listen');
    expect(schemaPaths).toContain('retry.delays.busy');
    expect(schemaPaths).toContain('senders[].from_number');
    expect(schemaPaths).toContain('storage.s3.bucket');
    expect(schemaPaths.length).toBeGreaterThan(50);
  });

  it('documents every schema key in the README reference table, and nothing else', () => {
    const documented = readmeReferenceKeys();
    // Sections (`smtp`, `retry.delays`) need no row of their own; every key inside them does.
    const leaves = schemaPaths.filter(
      (path) => !schemaPaths.some((other) => other.startsWith(`${path}.`) || other.startsWith(`${path}[]`)),
    );
    expect(leaves.filter((path) => !documented.includes(path))).toEqual([]);
    expect(documented.filter((path) => !schemaPaths.includes(path))).toEqual([]);
  });

  it('shows every schema key in config/faxbridge.example.yaml', () => {
    const shown = exampleKeyPaths();
    // Keys inside list items must be shown where the example has items (senders, inbound); `smtp.auth: []` has
    // none, so its item keys are documented in the README only.
    const hasItems = (path: string) => {
      const list = path.slice(0, path.indexOf(ITEM) + ITEM.length);
      return [...shown].some((other) => other.startsWith(list));
    };
    const missing = schemaPaths.filter(
      (path) => !shown.has(path) && (!path.includes(ITEM) || hasItems(path)),
    );
    expect(missing).toEqual([]);
  });
});

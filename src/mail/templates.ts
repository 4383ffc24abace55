/**
 * Subject templates (docs/behaviour.md §6, §7: defaults, and "templates are configurable"). A template is plain
 * text with `{name}` placeholders; the values are filled in already formatted (`{pages}` is `1 page` or
 * `5 pages`).
 */
export interface SubjectTemplates {
  /** Vars: to, pages, job. */
  accepted: string;
  /** Vars: to, pages, job. */
  delivered: string;
  /** Vars: to, reason, code, job. */
  failed: string;
  /** Vars: from (`+E164` or `unknown caller`), to, pages, partial (` [partial]` or empty). */
  inbound: string;
  /** Vars: from, to, reason, code. */
  inboundFailed: string;
}

export const DEFAULT_SUBJECTS: SubjectTemplates = {
  accepted: 'Fax to {to} accepted ({pages})',
  delivered: 'Fax to {to} delivered ({pages})',
  failed: 'Fax to {to} failed: {reason}',
  inbound: 'Fax from {from} ({pages}){partial}',
  inboundFailed: 'Fax from {from} to {to} failed: {reason}',
};

/** Strips what must never reach a header: control characters (CR/LF would inject headers) and runs of space. */
export function toHeaderText(text: string): string {
  return text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/**
 * Fills `{name}` placeholders; unknown names stay as written so that a typo in a configured template is
 * visible in the email rather than silently blank.
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  const filled = template.replace(/\{([a-z_]+)\}/gi, (whole, name: string) =>
    Object.hasOwn(vars, name) ? vars[name]! : whole,
  );
  return toHeaderText(filled);
}

export function pickSubject(
  overrides: Partial<SubjectTemplates> | undefined,
  kind: keyof SubjectTemplates,
): string {
  const custom = overrides?.[kind];
  return custom && custom.trim() ? custom : DEFAULT_SUBJECTS[kind];
}

/** The `mail.subjects` config keys (snake_case, as in YAML) as composer templates. */
export function subjectsFromConfig(subjects: {
  accepted?: string;
  delivered?: string;
  failed?: string;
  inbound?: string;
  inbound_failed?: string;
}): Partial<SubjectTemplates> {
  return {
    accepted: subjects.accepted,
    delivered: subjects.delivered,
    failed: subjects.failed,
    inbound: subjects.inbound,
    inboundFailed: subjects.inbound_failed,
  };
}

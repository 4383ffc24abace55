/** More than any cover page holds; the layout cuts to one page, this only bounds what is stored per message. */
export const MAX_COMMENTS_CHARS = 8000;

/**
 * The message body as a cover page's comments: plain text, without the quoted message it replies to and without
 * the signature (everything after a `-- ` line, the usual separator). What a reply quotes is recognised by its
 * `>` lines and by the lines mail programs put above a quote:
 * - "On <date>, <name> wrote:" (Apple Mail, Gmail, Thunderbird),
 * - "-----Original Message-----" (Outlook),
 * - a "From: … / Sent: …" block (Outlook's reply header without the dashes).
 */
export function coverComments(body: string | null | undefined): string {
  if (!body) return '';
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line === '-- ' || line === '--') break;
    if (/^-{2,}\s*Original Message\s*-{2,}/i.test(line.trim())) break;
    if (/^On .{4,200} wrote:\s*$/.test(line.trim())) break;
    // Gmail folds a long attribution line: "On …, Name <" then "name@example.com> wrote:".
    if (/^On\s/.test(line) && /\swrote:\s*$/.test(lines[index + 1] ?? '')) break;
    if (/^From:\s/.test(line) && /^(Sent|Date):\s/.test(lines[index + 1] ?? '')) break;
    if (/^\s*>/.test(line)) continue;
    kept.push(line.trimEnd());
  }
  // Blank lines at either end and runs of more than one blank line only take room on the page.
  const text = kept
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return text.length > MAX_COMMENTS_CHARS ? text.slice(0, MAX_COMMENTS_CHARS) : text;
}

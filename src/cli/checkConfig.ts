import { ConfigError, loadConfig } from '../config/loadConfig.js';
import { describeOfficeConverter, findOfficeConverter } from '../documents/convert/findOfficeConverter.js';
import { coerceError } from '../errors.js';
import { parseCommandArgs } from './args.js';
import { type Command, EXIT } from './io.js';

/**
 * `faxbridge check-config FILE` (docs/behaviour.md §1): applies the environment as `start` would, checks
 * every key and cross-key rule, prints one `key.path: message` line per problem on stderr. Warnings do not
 * fail.
 */
export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate a configuration file with the environment applied',
  help: `Usage: faxbridge check-config FILE

Validates FILE with the environment applied exactly as \`start\` would (FAXBRIDGE_*, TELNYX_*), and prints one
line per problem on stderr as "key.path: message". Warnings (prefixed "warning: ") do not fail; one of them
is documents.office: local with no LibreOffice (soffice) on PATH.

Exit codes: 0 the configuration is usable, 1 it has problems, 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(args, {}, { min: 1, max: 1 });
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const file = parsed.positionals[0]!;
    try {
      const { config, warnings } = loadConfig(file);
      for (const warning of warnings) io.err(`warning: ${warning.key}: ${warning.message}`);
      // A missing LibreOffice is not a configuration error, but the first Word file would otherwise find out.
      const converter = await findOfficeConverter(config.documents.office);
      if (converter.kind === 'local-missing') {
        io.err(`warning: documents.office: ${describeOfficeConverter(converter)}`);
      }
      io.out(`${file}: OK (${config.sandbox ? 'sandbox mode' : 'production mode'})`);
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw coerceError(error);
      for (const problem of error.problems) io.err(`${problem.key}: ${problem.message}`);
      return EXIT.problems;
    }
  },
};

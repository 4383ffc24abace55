import { CONFIG_OPTION, configFileOf, parseCommandArgs } from './args.js';
import { formatReport } from './doctor/report.js';
import { runDoctor } from './doctor/runDoctor.js';
import { type Command, EXIT } from './io.js';
import { loadConfigOrExplain } from './offline.js';

/**
 * `faxbridge doctor`: the set-up mistakes that otherwise show only when the first real fax fails (a wrong
 * key, a public URL Telnyx cannot reach, a relay that refuses the receipts), each found live and explained.
 */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check the set-up live: Telnyx account, public URL, mail relay, database, storage, tools',
  help: `Usage: faxbridge doctor [--config FILE]

Checks, with the configuration as \`start\` would load it (FILE, FAXBRIDGE_CONFIG or defaults, then the
environment), each with a verdict (ok, PROBLEM, skipped) and for a problem the fix:
  data_dir, database and storage writable (a probe document is stored, read back and deleted);
  telnyx.public_key parses as an Ed25519 key;
  the Telnyx API key works (GET /faxes, one fax), telnyx.connection_id is a Fax Application with an outbound
  voice profile, each sender's from_number is on the account (GET /phone_numbers); read-only;
  http.public_url reaches this daemon's /healthz from outside it (doctor answers on http.listen itself when
  the daemon is not running), over HTTPS;
  the mail relay accepts the first admin address from mail.from, up to RCPT (nothing is sent);
  LibreOffice and poppler are installed.
In sandbox mode the Telnyx checks run against the built-in simulator.

Exit codes: 0 every check passed or was skipped, 1 at least one problem, 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(args, CONFIG_OPTION, { min: 0, max: 0 });
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const config = loadConfigOrExplain(configFileOf(parsed), io);
    io.out(
      `faxbridge doctor: ${config.config_file ?? 'no config file'} (${config.sandbox ? 'sandbox mode' : 'production mode'})`,
    );
    const results = await runDoctor(config);
    for (const line of formatReport(results)) io.out(line);
    return results.some((result) => result.verdict === 'problem') ? EXIT.problems : EXIT.ok;
  },
};

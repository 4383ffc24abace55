import { hashPassword } from '../lib/passwordHash.js';
import { parseCommandArgs } from './args.js';
import { type CliIo, type Command, EXIT, ProblemError } from './io.js';

/**
 * `faxbridge hash-password`: turns a password into the scrypt hash `smtp.auth[].password_hash` takes.
 * The password is read from stdin (first line), or asked for twice without echo on a terminal; it is never an
 * argument, which other users could read in the process list and the shell would keep in its history.
 */
export type PasswordSource = (io: CliIo) => Promise<string>;

export function makeHashPasswordCommand(readPassword: PasswordSource): Command {
  return {
    name: 'hash-password',
    summary: 'print the scrypt hash of an SMTP AUTH password, for smtp.auth[].password_hash',
    help: `Usage: faxbridge hash-password

Reads a password from stdin (its first line) or, on a terminal, asks for it twice without echo, and prints
its hash as scrypt$N$r$p$salt$hash for smtp.auth[].password_hash:

  printf '%s\\n' "$PASSWORD" | faxbridge hash-password

Exit codes: 0 printed, 1 empty password or the two entries differ, 2 usage.`,

    async run(args, io) {
      const parsed = parseCommandArgs(args, {}, { min: 0, max: 0 });
      if (parsed.help) {
        io.out(this.help);
        return EXIT.ok;
      }
      const password = await readPassword(io);
      if (password === '') throw new ProblemError('the password is empty');
      io.out(await hashPassword(password));
      return EXIT.ok;
    },
  };
}

/** Stdin as piped text, or a no-echo prompt (with confirmation) when stdin is a terminal. */
export const readPasswordFromStdin: PasswordSource = async () => {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return firstLine(Buffer.concat(chunks).toString('utf8'));
  }
  const first = await promptHidden('Password: ');
  const again = await promptHidden('Again: ');
  if (first !== again) throw new ProblemError('the two passwords differ');
  return first;
};

function firstLine(text: string): string {
  const end = text.search(/\r?\n/);
  return end < 0 ? text : text.slice(0, end);
}

/** Reads one line in raw mode, echoing nothing; Ctrl-C aborts. The prompt goes to stderr, stdout keeps the hash. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (keys: string) => {
      for (const key of keys) {
        if (key === '\r' || key === '\n') return finish(null);
        if (key === '\u0003') return finish(new ProblemError('interrupted'));
        if (key === '\u007f' || key === '\b') typed = typed.slice(0, -1);
        else typed += key;
      }
    };
    stdin.on('data', onData);
  });
}

export const hashPasswordCommand = makeHashPasswordCommand(readPasswordFromStdin);

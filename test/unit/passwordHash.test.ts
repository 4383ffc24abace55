import { describe, expect, it } from 'vitest';

import { makeHashPasswordCommand } from '../../src/cli/hashPassword.js';
import { EXIT, ProblemError } from '../../src/cli/io.js';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../src/lib/passwordHash.js';

/* SMTP AUTH password hashes: scrypt, self-describing, checked in constant time. */

const FAST = { N: 1024, r: 8, p: 1 };

describe('hashPassword / verifyPassword', () => {
  it('round-trips, refuses a wrong password, and salts every hash', async () => {
    const one = await hashPassword('correct horse', FAST);
    const two = await hashPassword('correct horse', FAST);
    expect(one).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(one).not.toBe(two);
    expect(await verifyPassword('correct horse', one)).toBe(true);
    expect(await verifyPassword('correct horse ', one)).toBe(false);
    expect(await verifyPassword('', one)).toBe(false);
  });

  it('uses N=2^15 by default (the cost travels with the hash)', async () => {
    const hash = await hashPassword('s3cret');
    expect(parsePasswordHash(hash)).toMatchObject({ N: 32768, r: 8, p: 1 });
    expect(await verifyPassword('s3cret', hash)).toBe(true);
  });

  it('treats malformed or abusive hashes as no match, never as a throw', async () => {
    const good = await hashPassword('x', FAST);
    const [, , , , salt, hash] = good.split('$');
    for (const bad of [
      '',
      'plaintext',
      `bcrypt$1024$8$1$${salt}$${hash}`,
      `scrypt$1000$8$1$${salt}$${hash}`, // N not a power of two
      `scrypt$${2 ** 24}$8$1$${salt}$${hash}`, // would need gigabytes
      `scrypt$1024$8$1$not*base64$${hash}`,
    ]) {
      expect(parsePasswordHash(bad)).toBeNull();
      expect(await verifyPassword('x', bad)).toBe(false);
    }
  });
});

describe('faxbridge hash-password', () => {
  const run = async (password: string) => {
    const out: string[] = [];
    const command = makeHashPasswordCommand(async () => password);
    const code = await command.run([], { out: (text) => out.push(text), err: () => undefined });
    return { code, out };
  };

  it('prints a hash that verifies the password it read', async () => {
    const { code, out } = await run('from stdin');
    expect(code).toBe(EXIT.ok);
    expect(out).toHaveLength(1);
    expect(await verifyPassword('from stdin', out[0]!)).toBe(true);
  });

  it('refuses an empty password', async () => {
    await expect(run('')).rejects.toBeInstanceOf(ProblemError);
  });
});

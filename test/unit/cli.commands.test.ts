import { describe, expect, it } from 'vitest';

import { COMMANDS } from '../../src/cli/commands.js';

describe('COMMANDS (loaded only when run)', () => {
  it.each(COMMANDS.map((entry) => [entry.name, entry] as const))(
    '%s: the listed name and summary are the command module’s own',
    async (_name, entry) => {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.summary).toBe(entry.summary);
    },
  );
});

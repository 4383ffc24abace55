import { describe, expect, it } from 'vitest';

import { describeBreach, findQuotaBreach } from '../../src/domain/senderQuota.js';

const usage = (hourFaxes: number, dayPages: number) => ({
  hour: { faxes: hourFaxes, pages: 0 },
  day: { faxes: 0, pages: dayPages },
});

describe('findQuotaBreach', () => {
  const limits = { faxes_per_hour: 3, pages_per_day: 10 };

  it('allows up to the limit and refuses one more', () => {
    expect(findQuotaBreach(limits, usage(2, 0), { faxes: 1, pages: 0 })).toBeNull();
    expect(findQuotaBreach(limits, usage(2, 0), { faxes: 2, pages: 0 })).toEqual({
      limit: 'faxes_per_hour',
      max: 3,
      used: 2,
    });
    expect(findQuotaBreach(limits, usage(0, 7), { faxes: 1, pages: 3 })).toBeNull();
    expect(findQuotaBreach(limits, usage(0, 7), { faxes: 1, pages: 4 })).toEqual({
      limit: 'pages_per_day',
      max: 10,
      used: 7,
    });
  });

  it('0 means no limit', () => {
    expect(
      findQuotaBreach({ faxes_per_hour: 0, pages_per_day: 0 }, usage(1e6, 1e9), { faxes: 5, pages: 500 }),
    ).toBeNull();
  });

  it('says what was reached and that it clears by itself', () => {
    expect(describeBreach('a@example.com', { limit: 'faxes_per_hour', max: 3, used: 3 })).toBe(
      'a@example.com has sent 3 of at most 3 faxes this hour; try again later',
    );
  });
});

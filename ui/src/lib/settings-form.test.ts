// Inline settings validation: whole numbers within the contract's ranges.
import { describe, expect, it } from 'vitest';
import { fieldError, signaturesFrom } from './settings-form';

describe('fieldError', () => {
  it('accepts whole numbers inside the range', () => {
    expect(fieldError('syncIntervalMinutes', '1')).toBeNull();
    expect(fieldError('syncIntervalMinutes', '1440')).toBeNull();
    expect(fieldError('initialSyncDays', '3650')).toBeNull();
    expect(fieldError('initialSyncMaxMessages', '100')).toBeNull();
    expect(fieldError('undoSendSeconds', '0')).toBeNull();
    expect(fieldError('undoSendSeconds', '60')).toBeNull();
  });

  it('says what is wrong otherwise', () => {
    expect(fieldError('syncIntervalMinutes', '')).toBe('Enter a whole number');
    expect(fieldError('syncIntervalMinutes', '2.5')).toBe('Enter a whole number');
    expect(fieldError('syncIntervalMinutes', '0')).toBe(`Between 1 and ${(1440).toLocaleString()} minutes`);
    expect(fieldError('initialSyncDays', '3651')).toMatch(/days$/);
    expect(fieldError('initialSyncMaxMessages', '99')).toMatch(/^Between 100 and .* messages$/);
    expect(fieldError('undoSendSeconds', '61')).toBe('Between 0 and 60 seconds');
  });
});

describe('signaturesFrom', () => {
  it('keeps plain text by account, drops blank ones and trailing space', () => {
    expect(signaturesFrom({ '1': 'Ada\nFireside <team>\n\n', '2': '  \n', '3': '' })).toEqual({
      '1': 'Ada\nFireside <team>',
    });
  });
});

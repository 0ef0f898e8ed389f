// Inline checks for the Settings form so mistakes show while typing; Rust
// validates the same ranges on save and its sentence is shown if it disagrees.
import type { Settings } from '../bindings/Settings';

export type NumericSetting = 'syncIntervalMinutes' | 'initialSyncDays' | 'initialSyncMaxMessages' | 'undoSendSeconds';

export const NUMERIC_FIELDS: readonly { key: NumericSetting; label: string; unit: string; min: number; max: number }[] = [
  { key: 'syncIntervalMinutes', label: 'Sync every', unit: 'minutes', min: 1, max: 1440 },
  { key: 'initialSyncDays', label: 'First sync fetches the last', unit: 'days', min: 1, max: 3650 },
  { key: 'initialSyncMaxMessages', label: 'First sync fetches at most', unit: 'messages', min: 100, max: 1_000_000 },
  { key: 'undoSendSeconds', label: 'Undo send for', unit: 'seconds (0: send at once)', min: 0, max: 60 },
];

/** The problem with one numeric field's text, or null. */
export function fieldError(key: NumericSetting, text: string): string | null {
  const field = NUMERIC_FIELDS.find((f) => f.key === key);
  if (!field) return null;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n)) return 'Enter a whole number';
  if (n < field.min || n > field.max) {
    return `Between ${field.min.toLocaleString()} and ${field.max.toLocaleString()} ${field.unit.replace(/ \(.*\)$/, '')}`;
  }
  return null;
}

/** The form's texts parsed back into Settings (call only when no field has an error). */
export function withNumbers(base: Settings, texts: Record<NumericSetting, string>): Settings {
  return {
    ...base,
    syncIntervalMinutes: Number(texts.syncIntervalMinutes),
    initialSyncDays: Number(texts.initialSyncDays),
    initialSyncMaxMessages: Number(texts.initialSyncMaxMessages),
    undoSendSeconds: Number(texts.undoSendSeconds),
  };
}

/** The longest signature Rust keeps, in characters. */
export const MAX_SIGNATURE_CHARS = 10_000;

/**
 * The signature texts as Settings keeps them: plain text by account id (Rust
 * escapes it and turns new lines into <br> when it opens a draft), blank ones
 * left out, trailing space trimmed.
 */
export function signaturesFrom(texts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(texts)
      .map(([id, text]): [string, string] => [id, text.replace(/\s+$/, '')])
      .filter(([, text]) => text.trim() !== ''),
  );
}

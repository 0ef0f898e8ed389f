// Normalises whatever a rejected command produced into the typed ApiError the
// Rust side promises, so the UI only ever has one error shape to render.
import type { ApiError } from '../../bindings/ApiError';
import type { ErrorCode } from '../../bindings/ErrorCode';

const CODES: readonly ErrorCode[] = [
  'notFound',
  'invalidInput',
  'storage',
  'unavailable',
  'shuttingDown',
  'internal',
  'invalidQuery',
  'refusedLink',
  'invalidSetting',
];

export function isApiError(value: unknown): value is ApiError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.code === 'string' &&
    (CODES as readonly string[]).includes(v.code) &&
    typeof v.message === 'string'
  );
}

export function toApiError(value: unknown): ApiError {
  if (isApiError(value)) return { code: value.code, message: value.message };
  if (typeof value === 'string') return { code: 'internal', message: value };
  if (value instanceof Error) return { code: 'internal', message: value.message };
  let message: string;
  try {
    message = JSON.stringify(value) ?? String(value);
  } catch {
    message = String(value);
  }
  return { code: 'internal', message };
}

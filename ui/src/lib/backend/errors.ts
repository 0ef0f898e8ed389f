// Normalises whatever a rejected command produced into the typed ApiError the
// Rust side promises, so the UI only ever has one error shape to render.
import type { ApiError } from '../../bindings/ApiError';
import type { ErrorCode } from '../../bindings/ErrorCode';

/**
 * Every code the service sends, from the generated ErrorCode: when Rust adds
 * (or drops) a code, this stops type-checking until the list follows.
 */
const CODES = {
  notFound: true,
  invalidInput: true,
  signInFailed: true,
  invalidSetting: true,
  storage: true,
  diskFull: true,
  invalidQuery: true,
  refusedLink: true,
  unavailable: true,
  shuttingDown: true,
  conflict: true,
  tooLarge: true,
  internal: true,
} as const satisfies Record<ErrorCode, true>;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(CODES, value);
}

export function isApiError(value: unknown): value is ApiError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isErrorCode(v.code) && typeof v.message === 'string';
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

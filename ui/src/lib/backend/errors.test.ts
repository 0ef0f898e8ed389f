// Rejections become the typed ApiError: every code the service sends keeps its
// sentence; anything else is an internal error with what could be read of it.
import { describe, expect, it } from 'vitest';
import { isApiError, isErrorCode, toApiError } from './errors';

describe('isApiError', () => {
  it('recognises a failed sign-in and keeps its message', () => {
    const err = { code: 'signInFailed', message: 'Microsoft sign-in was cancelled' };
    expect(isApiError(err)).toBe(true);
    expect(toApiError(err)).toEqual({ code: 'signInFailed', message: 'Microsoft sign-in was cancelled' });
  });

  it('refuses unknown codes, inherited names and malformed shapes', () => {
    expect(isApiError({ code: 'network', message: 'offline' })).toBe(false);
    expect(isApiError({ code: 'toString', message: 'x' })).toBe(false);
    expect(isApiError({ code: 'notFound' })).toBe(false);
    expect(isApiError({ code: 'notFound', message: 3 })).toBe(false);
    expect(isApiError(null)).toBe(false);
    expect(isApiError('notFound')).toBe(false);
    expect(isErrorCode('invalidInput')).toBe(true);
    expect(isErrorCode(undefined)).toBe(false);
  });
});

describe('toApiError', () => {
  it('drops extra fields of a recognised error', () => {
    expect(toApiError({ code: 'notFound', message: 'message 4 not found', extra: 1 })).toEqual({
      code: 'notFound',
      message: 'message 4 not found',
    });
  });

  it('turns strings, Errors and unknown shapes into internal errors', () => {
    expect(toApiError('boom')).toEqual({ code: 'internal', message: 'boom' });
    expect(toApiError(new Error('bad'))).toEqual({ code: 'internal', message: 'bad' });
    expect(toApiError({ code: 'network', message: 'offline' })).toEqual({
      code: 'internal',
      message: '{"code":"network","message":"offline"}',
    });
    expect(toApiError(undefined)).toEqual({ code: 'internal', message: 'undefined' });
  });
});

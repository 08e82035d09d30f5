import { describe, expect, it } from 'vitest';
import { TidingsError, isTidingsError } from '../../../src/shared/TidingsError.js';

describe('TidingsError', () => {
  it('carries its code and details and says where in its message', () => {
    const error = new TidingsError('backend-failed', { status: 403, field: 'subscription' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TidingsError');
    expect(error.code).toBe('backend-failed');
    expect(error.details.status).toBe(403);
    expect(error.message).toContain('subscription');
    expect(error.message).toContain('403');
  });

  it('keeps the cause', () => {
    const cause = new TypeError('boom');
    expect(new TidingsError('subscribe-failed', { cause }).cause).toBe(cause);
  });

  it('is recognised by code, and other errors are not', () => {
    const error = new TidingsError('unsupported');
    expect(isTidingsError(error)).toBe(true);
    expect(isTidingsError(error, 'unsupported')).toBe(true);
    expect(isTidingsError(error, 'permission-denied')).toBe(false);
    expect(isTidingsError(new Error('x'))).toBe(false);
    expect(isTidingsError({ name: 'TidingsError', code: 'unsupported' })).toBe(false);
  });
});

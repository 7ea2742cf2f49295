import { afterEach, describe, expect, it, vi } from 'vitest';
import { currentSession, pscError, triage, whenExpired } from './api';

afterEach(() => vi.unstubAllGlobals());

function refuse(): Promise<Response> {
  return Promise.resolve(
    new Response(JSON.stringify({ error: 'unauthorized', message: 'log in first' }), { status: 401 }),
  );
}

describe('api', () => {
  it('tells of an ended session only when a data call is refused, not when nobody is logged in yet', async () => {
    vi.stubGlobal('fetch', vi.fn(refuse));
    const expired = vi.fn();
    whenExpired(expired);
    expect(await currentSession()).toBeNull();
    expect(expired).not.toHaveBeenCalled();
    await expect(triage(14, null)).rejects.toMatchObject({ status: 401 });
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('reads the kind of a refused Pro Santé Connect login from the address, and nothing else', () => {
    expect(pscError('?psc_error=unknown_rpps')).toBe('unknown_rpps');
    expect(pscError('?psc_error=acr&x=1')).toBe('acr');
    expect(pscError('')).toBeNull();
    expect(pscError('?psc_error=<script>')).toBeNull();
  });
});

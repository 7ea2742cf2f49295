import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import ConsentPanel from './ConsentPanel.svelte';
import type { ConsentEvent, ConsentPage } from '../../lib/api';

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const id = 'cd'.repeat(16);
const given: ConsentEvent = {
  id: 1, decision: 'given', at: '2026-03-01T09:00:00Z', notice_version: 2, channel: 'app',
  collected_by: null, operator_id: null, device_id: 'ef'.repeat(16), recorded_at: '2026-03-01T09:00:05Z',
};

afterEach(() => vi.unstubAllGlobals());

describe('ConsentPanel', () => {
  it('shows the history and records a refusal collected in consultation', async () => {
    const history: ConsentEvent[] = [given];
    const posted: unknown[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      expect(url).toBe(`/v1/operator/patients/${id}/consent`);
      if (init?.method === 'POST') {
        const body = JSON.parse(String(init.body));
        posted.push(body);
        const e: ConsentEvent = {
          ...given, id: 2, decision: body.decision, at: '2026-03-05T10:00:00Z', channel: 'consultation',
          collected_by: { name: 'Inès Petit', role: 'nurse' }, operator_id: 3, device_id: null,
        };
        history.push(e);
        return json(e);
      }
      const page: ConsentPage = { current: history.at(-1) ?? null, history: [...history], notice_version: 2 };
      return json(page);
    }));
    const { findByTestId, getByTestId } = render(ConsentPanel, { id });
    expect((await findByTestId('consent-current')).dataset.decision).toBe('given');
    expect(getByTestId('consent-history').textContent).toContain("par le patient dans l'application");
    await fireEvent.change(getByTestId('consent-decision'), { target: { value: 'refused' } });
    await fireEvent.submit(getByTestId('consent-form'));
    await waitFor(() => expect(getByTestId('consent-current').dataset.decision).toBe('refused'));
    expect(posted).toEqual([{ decision: 'refused', notice_version: 2 }]);
    expect(getByTestId('consent-history').textContent).toContain('en consultation par Inès Petit');
  });
});

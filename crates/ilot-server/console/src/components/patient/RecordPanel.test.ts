import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import RecordPanel from './RecordPanel.svelte';
import type { RecordStatus } from '../../lib/api';

const ID = 'a'.repeat(32);

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

afterEach(() => vi.unstubAllGlobals());

describe('RecordPanel', () => {
  it('closes the monitoring with its last day and reason, and shows a refusal as the server words it', async () => {
    const calls: { method: string; url: string; body: unknown }[] = [];
    let answer: Response = json({ error: 'bad_request', message: 'the last day of monitoring (2099-01-01) is after today' }, 400);
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push({ method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : null });
        return answer;
      }),
    );
    const changed = vi.fn();
    const { getByTestId, queryByTestId } = render(RecordPanel, { id: ID, record: { closure: null, restriction: null }, canEdit: true, onChanged: changed });
    await fireEvent.input(getByTestId('close-day'), { target: { value: '2099-01-01' } });
    await fireEvent.input(getByTestId('close-reason'), { target: { value: 'fin de prise en charge' } });
    await fireEvent.submit(getByTestId('close-form'));
    await waitFor(() => expect(getByTestId('record-refusal').textContent).toContain('after today'));
    expect(calls).toEqual([
      { method: 'POST', url: `/v1/operator/patients/${ID}/closure`, body: { last_day: '2099-01-01', reason: 'fin de prise en charge' } },
    ]);
    expect(changed).not.toHaveBeenCalled();

    const closed: RecordStatus = {
      closure: { last_day: '2026-03-02', ends_at: '2026-03-02T23:00:00Z', reason: 'fin', by: 1, recorded_at: '2026-03-02T08:00:00Z', last_care_at: '2026-03-02T23:00:00Z' },
      restriction: null,
    };
    answer = json(closed);
    await fireEvent.input(getByTestId('close-day'), { target: { value: '2026-03-02' } });
    await fireEvent.submit(getByTestId('close-form'));
    await waitFor(() => expect(changed).toHaveBeenCalledTimes(1));
    expect(queryByTestId('record-refusal')).toBeNull();
  });

  it('records a restriction with its reason', async () => {
    const calls: { method: string; url: string; body: unknown }[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push({ method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : null });
        return json({ closure: null, restriction: { at: '2026-03-02T08:00:00Z', by: 1, reason: 'effacement' } });
      }),
    );
    const changed = vi.fn();
    const { getByTestId } = render(RecordPanel, { id: ID, record: { closure: null, restriction: null }, canEdit: true, onChanged: changed });
    await fireEvent.input(getByTestId('restrict-reason'), { target: { value: "demande d'effacement" } });
    await fireEvent.submit(getByTestId('restrict-form'));
    await waitFor(() => expect(changed).toHaveBeenCalledTimes(1));
    expect(calls).toEqual([
      { method: 'PUT', url: `/v1/operator/patients/${ID}/restriction`, body: { restricted: true, reason: "demande d'effacement" } },
    ]);
  });

  it('offers a physician to reopen a closed record, with its reason', async () => {
    const calls: { method: string; url: string; body: unknown }[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push({ method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : null });
        return json({ closure: null, restriction: null });
      }),
    );
    const record: RecordStatus = {
      closure: { last_day: '2026-03-02', ends_at: '2026-03-02T23:00:00Z', reason: 'fin', by: 1, recorded_at: '2026-03-02T08:00:00Z', last_care_at: '2026-03-02T23:00:00Z' },
      restriction: null,
    };
    const changed = vi.fn();
    const { getByTestId, queryByTestId, getByText } = render(RecordPanel, { id: ID, record, canEdit: true, onChanged: changed });
    expect(queryByTestId('close-form')).toBeNull();
    expect(getByText('Rouvrir la télésurveillance')).toBeTruthy();
    expect(getByTestId('reopen-reason').getAttribute('maxlength')).toBe('200');
    await fireEvent.input(getByTestId('reopen-reason'), { target: { value: 'clôturée par erreur' } });
    await fireEvent.submit(getByTestId('reopen-form'));
    await waitFor(() => expect(changed).toHaveBeenCalledTimes(1));
    expect(calls).toEqual([{ method: 'POST', url: `/v1/operator/patients/${ID}/reopening`, body: { reason: 'clôturée par erreur' } }]);
  });

  it('shows a closed record to a nurse without any form', () => {
    const record: RecordStatus = {
      closure: { last_day: '2026-03-02', ends_at: '2026-03-02T23:00:00Z', reason: 'déménagement', by: 1, recorded_at: '2026-03-02T08:00:00Z', last_care_at: '2026-03-02T23:00:00Z' },
      restriction: null,
    };
    const { getByTestId, queryByTestId } = render(RecordPanel, { id: ID, record, canEdit: false, onChanged: () => {} });
    expect(getByTestId('record-closed').textContent).toContain('2026-03-02');
    expect(getByTestId('record-closed').textContent).toContain('déménagement');
    expect(queryByTestId('close-form')).toBeNull();
    expect(queryByTestId('reopen-form')).toBeNull();
    expect(queryByTestId('restrict-form')).toBeNull();
  });
});

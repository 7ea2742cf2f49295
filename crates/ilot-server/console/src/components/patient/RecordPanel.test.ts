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
    const { getByTestId, queryByTestId } = render(RecordPanel, { id: ID, record: { closure: null, restriction: null, interruptions: [] }, canEdit: true, onChanged: changed });
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
      interruptions: [],
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
        return json({ closure: null, restriction: { at: '2026-03-02T08:00:00Z', by: 1, reason: 'effacement' }, interruptions: [] });
      }),
    );
    const changed = vi.fn();
    const { getByTestId } = render(RecordPanel, { id: ID, record: { closure: null, restriction: null, interruptions: [] }, canEdit: true, onChanged: changed });
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
        return json({ closure: null, restriction: null, interruptions: [] });
      }),
    );
    const record: RecordStatus = {
      closure: { last_day: '2026-03-02', ends_at: '2026-03-02T23:00:00Z', reason: 'fin', by: 1, recorded_at: '2026-03-02T08:00:00Z', last_care_at: '2026-03-02T23:00:00Z' },
      restriction: null,
      interruptions: [],
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
      interruptions: [],
    };
    const { getByTestId, queryByTestId } = render(RecordPanel, { id: ID, record, canEdit: false, onChanged: () => {} });
    expect(getByTestId('record-closed').textContent).toContain('2026-03-02');
    expect(getByTestId('record-closed').textContent).toContain('déménagement');
    expect(queryByTestId('close-form')).toBeNull();
    expect(queryByTestId('reopen-form')).toBeNull();
    expect(queryByTestId('restrict-form')).toBeNull();
  });

  it('lists past interruptions oldest first, with who ended and reopened the monitoring and why', () => {
    const record: RecordStatus = {
      closure: null,
      restriction: null,
      interruptions: [
        {
          last_day: '2026-03-02', first_day_off: '2026-03-03', from: '2026-03-02T23:00:00Z', until: '2026-03-04T08:00:00Z',
          reopened_on: '2026-03-04', closure_reason: 'fin de la prise en charge', closed_by: { name: 'Dr Martin', role: 'physician' },
          closure_recorded_at: '2026-03-02T08:00:00Z', reopen_reason: 'clôturée par erreur', reopened_by: { name: 'Dr Durand', role: 'physician' },
        },
        {
          last_day: '2026-03-05', first_day_off: '2026-03-06', from: '2026-03-05T23:00:00Z', until: '2026-03-05T23:00:00Z',
          reopened_on: '2026-03-06', closure_reason: 'hospitalisation', closed_by: null,
          closure_recorded_at: '2026-03-05T08:00:00Z', reopen_reason: 'erreur de saisie', reopened_by: { name: 'Léa', role: 'nurse' },
        },
      ],
    };
    const { getByRole } = render(RecordPanel, { id: ID, record, canEdit: false, onChanged: () => {} });
    const list = getByRole('list', { name: 'Interruptions de la télésurveillance' });
    const items = [...list.querySelectorAll('li')].map((li) => li.textContent?.replace(/\s+/g, ' ').trim());
    expect(items).toHaveLength(2);
    expect(items[0]).toContain(
      'Du 3 mars 2026 au 4 mars 2026 — arrêtée par Dr Martin, médecin (fin de la prise en charge), rouverte par Dr Durand, médecin (clôturée par erreur)',
    );
    expect(items[0]).toContain('Fin enregistrée le');
    // Reopened before its last day ended: no day interrupted; an operator no longer known.
    expect(items[1]).toContain(
      'Fin au 5 mars 2026 annulée avant la fin de ce jour, aucun jour interrompu — arrêtée par un membre de l\'équipe (hospitalisation), rouverte par Léa, infirmier·e (erreur de saisie)',
    );
  });

  it('shows no interruption heading when the monitoring was never interrupted', () => {
    const { queryByText, queryByTestId } = render(RecordPanel, {
      id: ID,
      record: { closure: null, restriction: null, interruptions: [] },
      canEdit: true,
      onChanged: () => {},
    });
    expect(queryByTestId('interruptions')).toBeNull();
    expect(queryByText('Interruptions de la télésurveillance')).toBeNull();
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import Triage from './Triage.svelte';
import type { TriageItem, TriagePage } from '../lib/api';

function item(pseudonym: string, category: TriageItem['category']): TriageItem {
  return {
    patient_id: pseudonym.padEnd(32, '0'),
    pseudonym,
    ins: null,
    category,
    last_data_at: '2026-03-02T07:55:00Z',
    transmitting: true,
    monitoring: 'cgm',
    open_alerts: 0,
    worst_alert: null,
    metrics: {
      n_readings: 4000,
      tir_percent: 80,
      below_54_percent: 0,
      below_70_percent: 1,
      between_54_69_percent: 1,
      between_181_250_percent: 15,
      above_250_percent: 4,
      gmi_percent: 6.8,
      cv_percent: 30,
      active_percent: 95,
    },
    previous_tir_percent: null,
    capillary_per_day: 0,
    expected_readings_per_day: 201.6,
    period: null,
    window_from: '2026-02-15T23:00:00Z',
    window_to: '2026-03-01T23:00:00Z',
    last_review: null,
  };
}

function page(days: number, items: TriageItem[]): TriagePage {
  return {
    as_of: '2026-03-02T08:00:00Z',
    days,
    thresholds: {
      below_54_percent: 1,
      below_70_percent: 4,
      tir_drop_points: 15,
      tir_drop_previous_days: 14,
      tir_percent: 70,
      cgm_active_percent: 70,
    },
    total: items.length,
    items,
    next_cursor: null,
  };
}

function answer(p: TriagePage): Response {
  return new Response(JSON.stringify(p), { status: 200, headers: { 'content-type': 'application/json' } });
}

afterEach(() => vi.unstubAllGlobals());

describe('Triage', () => {
  it('shows the rows in the server order with the thresholds, and drops a late answer for an older period', async () => {
    const pending = new Map<string, (r: Response) => void>();
    vi.stubGlobal(
      'fetch',
      vi.fn((url: string) => {
        const days = new URL(url, 'http://x').searchParams.get('days') ?? '';
        return new Promise<Response>((ok) => pending.set(days, ok));
      }),
    );
    const { getAllByTestId, getByLabelText, getByTestId } = render(Triage);
    await waitFor(() => expect(pending.has('14')).toBe(true));
    pending.get('14')!(answer(page(14, [item('P-URG', 'urgent-alert'), item('P-OK', 'on-target')])));
    await waitFor(() => expect(getAllByTestId('triage-row')).toHaveLength(2));
    const rows = () => getAllByTestId('triage-row').map((r) => [r.querySelector('th')?.textContent?.trim(), r.dataset.category]);
    expect(rows()).toEqual([
      ['P-URG', 'urgent-alert'],
      ['P-OK', 'on-target'],
    ]);
    expect(getByTestId('triage-rules').textContent).toContain('temps sous 54 mg/dL supérieur à 1 %');

    // 7 days, then 1 day before the 7-day answer comes: the late 7-day answer must not win.
    await fireEvent.click(getByLabelText('7 jours'));
    await waitFor(() => expect(pending.has('7')).toBe(true));
    await fireEvent.click(getByLabelText('1 jour'));
    await waitFor(() => expect(pending.has('1')).toBe(true));
    pending.get('1')!(answer(page(1, [item('P-ONE', 'no-data')])));
    await waitFor(() => expect(rows()).toEqual([['P-ONE', 'no-data']]));
    pending.get('7')!(answer(page(7, [item('P-SEVEN', 'low')])));
    await new Promise((r) => setTimeout(r, 50));
    expect(rows()).toEqual([['P-ONE', 'no-data']]);
  });

  it('sends the filters, marks a patient reviewed and undoes it from the notice', async () => {
    const calls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        const method = init?.method ?? 'GET';
        calls.push(`${method} ${url}`);
        if (method === 'GET') return answer(page(14, [item('P-A', 'low')]));
        const review = { id: 1, patient_id: 'P-A'.padEnd(32, '0'), operator_id: 1, by: 'Dr', at: '2026-03-02T08:00:00Z' };
        return new Response(JSON.stringify(review), { status: 200 });
      }),
    );
    const { getByTestId, findByRole } = render(Triage);
    await waitFor(() => expect(calls.length).toBe(1));
    await fireEvent.click(getByTestId('filter-not-reviewed'));
    await waitFor(() => expect(calls.at(-1)).toContain('not_reviewed=true'));
    await fireEvent.change(getByTestId('filter-category'), { target: { value: 'low' } });
    await waitFor(() => expect(calls.at(-1)).toContain('category=low'));
    await fireEvent.click(getByTestId('filter-mine'));
    await waitFor(() => expect(calls.at(-1)).toContain('mine=true'));
    expect(calls.at(-1)).not.toContain('closed=');
    await fireEvent.click(getByTestId('filter-closed'));
    await waitFor(() => expect(calls.at(-1)).toContain('closed=true'));
    await fireEvent.click(getByTestId('filter-closed'));
    await waitFor(() => expect(calls.at(-1)).not.toContain('closed='));

    await fireEvent.click(await findByRole('button', { name: 'Marquer P-A comme revu' }));
    const undo = await findByRole('button', { name: 'Annuler la revue de P-A' });
    expect(calls).toContain(`POST /v1/operator/patients/${'P-A'.padEnd(32, '0')}/review`);
    expect(getByTestId('review-notice').textContent).toContain('P-A marqué comme revu.');
    await waitFor(() => expect(document.activeElement).toBe(undo));
    await fireEvent.click(undo);
    await waitFor(() => expect(getByTestId('review-notice').textContent).toContain('Revue de P-A annulée.'));
    expect(calls).toContain(`DELETE /v1/operator/patients/${'P-A'.padEnd(32, '0')}/review`);
  });
});

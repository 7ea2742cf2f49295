import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import Billing from './Billing.svelte';
import PatientPeriods from './PatientPeriods.svelte';
import type { BillingMonth, PatientPeriods as Periods } from '../lib/api';

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const id = 'ab'.repeat(16);

function month(m: string): BillingMonth {
  return {
    month: m,
    as_of: '2026-04-01T08:00:00Z',
    forfaits: [
      { kind: 'operator', code: 'TVB', amount_cents: 2800 },
      { kind: 'technical', code: null, amount_cents: 5000 },
    ],
    rows: [
      {
        patient_id: id, pseudonym: 'Martin', ins: null, number: 1, first_day: '2026-03-01', last_day: '2026-03-30',
        prescribed: true, expected: 2136, received: 2876, ratio: 1, status: 'complete', billable: false,
        reasons: ['no-accompaniment'], series: null, operator_cents: 0, technical_cents: 0,
      },
    ],
    totals: { periods: 1, billable: 0, operator_cents: 0, technical_cents: 0 },
  };
}

afterEach(() => vi.unstubAllGlobals());

describe('Billing', () => {
  it('asks for the month chosen, says why a period is not billable, links the CSV of that month', async () => {
    const asked: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      asked.push(url);
      return json(month(new URL(url, 'http://x').searchParams.get('month')!));
    }));
    const r = render(Billing);
    const input = r.getByLabelText('Mois') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: '2026-03' } });
    await waitFor(() => expect(asked.at(-1)).toBe('/v1/operator/billing?month=2026-03'));
    await r.findByText('accompagnement du premier mois non fait');
    expect(r.getByTestId('download-csv').getAttribute('href')).toBe('/v1/operator/billing.csv?month=2026-03');
    expect(r.getByTestId('billing-totals').textContent).toContain('Aucune période facturable sur 1');
  });

  it('tells a nurse that billing is for physicians', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json({ error: 'forbidden', message: 'billing is for the team physicians' }, 403)));
    const r = render(Billing);
    expect((await r.findByRole('alert')).textContent).toBe("La facturation est réservée aux médecins de l'équipe.");
  });
});

describe('PatientPeriods', () => {
  it('shows each period with every reason and the missed accompaniment', async () => {
    const p: Periods = {
      patient_id: id, pseudonym: 'Zoé', as_of: '2026-04-01T08:00:00Z', prescribed: true, series: [],
      accompaniment: { status: 'missed' },
      periods: [
        {
          number: 1, first_day: '2026-03-01', last_day: '2026-03-30', prescribed: true, expected: 2136, received: 0,
          ratio: 0, status: 'interrupted', billable: false, reasons: ['no-consent', 'interrupted', 'no-accompaniment'], series: null,
        },
      ],
    };
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      expect(url).toBe(`/v1/operator/patients/${id}/periods`);
      return json(p);
    }));
    const r = render(PatientPeriods, { patientId: id });
    await r.findByText('pas de consentement, interrompue (aucune donnée), accompagnement du premier mois non fait');
    expect(r.getByTestId('accompaniment').textContent).toContain('non fait');
    expect(r.getByRole('heading', { level: 2 }).textContent).toContain('Zoé');
  });
});

import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import AlertCard from './AlertCard.svelte';
import type { AlertView } from '../lib/ipc';

function alert(over: Partial<AlertView> = {}): AlertView {
  return {
    key: 'hypo@2026-11-22T09:48:00Z',
    kind: 'hypo-l1',
    severity: 'warning',
    started_at: '2026-11-22T09:48:00Z',
    ended_at: null,
    extreme: { mg_dl: 55, level: 'value' },
    percent: null,
    count: null,
    advice: 'advice.hypo.resugar',
    notify: false,
    ...over,
  };
}

describe('AlertCard', () => {
  it('tells what to do now for a hypo, with the call-15 line', () => {
    const { getByTestId, container } = render(AlertCard, { alert: alert(), unit: 'g/L', tz: 'Europe/Paris', ondone: () => {} });
    expect(getByTestId('alert-advice').textContent).toContain('15 g de sucre');
    expect(getByTestId('alert-advice').textContent).toContain('3 morceaux de sucre');
    expect(container.textContent).toContain('Glycémie basse');
    expect(container.textContent).toContain('0,55 g/L');
    expect(container.textContent).toContain('appelez le 15');
    expect(container.querySelector('[role="alert"]')).toBeNull();
  });

  it('is announced at once when urgent', () => {
    const { container } = render(AlertCard, {
      alert: alert({ kind: 'severe-hypo', severity: 'urgent', advice: 'advice.hypo.severe' }),
      unit: 'mg/dL',
      tz: 'Europe/Paris',
      ondone: () => {},
    });
    expect(container.querySelector('[role="alert"]')?.textContent).toContain('glucagon');
  });

  it('says "done" with its key', async () => {
    const ondone = vi.fn();
    const { getByText } = render(AlertCard, { alert: alert(), unit: 'g/L', tz: 'Europe/Paris', ondone });
    await fireEvent.click(getByText("C'est fait"));
    expect(ondone).toHaveBeenCalledWith('hypo@2026-11-22T09:48:00Z');
  });
});

import { describe, expect, it } from 'vitest';
import { render } from '@testing-library/svelte';
import GlucoseNow from './GlucoseNow.svelte';
import type { LastGlucose } from '../lib/ipc';

const now = new Date('2026-11-22T10:00:00Z');
function last(over: Partial<LastGlucose> = {}): LastGlucose {
  return {
    id: 1,
    at: '2026-11-22T09:48:00Z',
    mg_dl: 126,
    level: 'value',
    cgm: false,
    context: 'fasting',
    zone: 'in-range',
    trend: null,
    ...over,
  };
}

describe('GlucoseNow', () => {
  it('shows the number with its unit, its age and a word for the zone', () => {
    const { getByTestId } = render(GlucoseNow, { last: last(), unit: 'g/L', now, tz: 'Europe/Paris' });
    expect(getByTestId('glucose-value').textContent).toBe('1,26');
    expect(getByTestId('glucose-unit').textContent).toBe('g/L');
    expect(getByTestId('glucose-age').textContent).toBe('il y a 12 min');
    expect(getByTestId('glucose-zone').textContent).toContain('dans la cible');
    expect(getByTestId('glucose-now').textContent).toContain('à jeun');
  });

  it('says "bas" for a low reading, in mg/dL too', () => {
    const { getByTestId } = render(GlucoseNow, {
      last: last({ mg_dl: 55, zone: 'low' }),
      unit: 'mg/dL',
      now,
      tz: 'Europe/Paris',
    });
    expect(getByTestId('glucose-value').textContent).toBe('55');
    expect(getByTestId('glucose-zone').textContent?.trim()).toMatch(/bas$/);
    expect(getByTestId('glucose-zone').className).toContain('zone-low');
  });

  it('shows the CGM trend in words for screen readers', () => {
    const { getByTestId } = render(GlucoseNow, {
      last: last({ cgm: true, trend: { direction: 'falling', mg_dl_per_min: -2.4 } }),
      unit: 'g/L',
      now,
      tz: 'Europe/Paris',
    });
    expect(getByTestId('glucose-now').textContent).toContain('baisse');
    expect(getByTestId('glucose-now').textContent).toContain('↓');
  });

  it('keeps LO without a number or unit', () => {
    const { getByTestId, queryByTestId } = render(GlucoseNow, {
      last: last({ mg_dl: null, level: 'lo', zone: 'very-low' }),
      unit: 'g/L',
      now,
      tz: 'Europe/Paris',
    });
    expect(getByTestId('glucose-value').textContent).toBe('LO');
    expect(queryByTestId('glucose-unit')).toBeNull();
    expect(getByTestId('glucose-zone').textContent).toContain('très bas');
  });

  it('invites a first reading when there is none', () => {
    const { container } = render(GlucoseNow, { last: null, unit: 'g/L', now, tz: 'Europe/Paris' });
    expect(container.textContent).toContain('Pas encore de glycémie');
  });
});

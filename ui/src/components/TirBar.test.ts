import { describe, expect, it } from 'vitest';
import { render } from '@testing-library/svelte';
import TirBar from './TirBar.svelte';
import type { Metrics } from '../lib/ipc';

const metrics = {
  tir_percent: 68,
  below_54_percent: 1,
  between_54_69_percent: 3,
  between_181_250_percent: 22,
  above_250_percent: 6,
} as Metrics;

describe('TirBar', () => {
  it('stacks the consensus bands bottom to top: very low, low, in range, high, very high', () => {
    const { container } = render(TirBar, { metrics, unit: 'g/L' });
    const segs = [...container.querySelectorAll('.bar .seg')].map((s) => s.className.match(/seg-([a-z-]+)/)?.[1]);
    // The bar is a plain flex column: DOM order is top to bottom, so very low is at the bottom.
    expect(segs).toEqual(['very-high', 'high', 'in-range', 'low', 'very-low']);
    const heights = [...container.querySelectorAll<HTMLElement>('.bar .seg')].map((s) => s.style.height);
    expect(heights).toEqual(['6%', '22%', '68%', '3%', '1%']);
  });

  it('writes every share with its word and target, in the unit', () => {
    const { container } = render(TirBar, { metrics, unit: 'g/L' });
    const items = [...container.querySelectorAll('.legend li')].map((li) => li.textContent?.replace(/\s+/g, ' ').trim());
    expect(items[0]).toContain('Très élevé (au-dessus de 2,50 g/L) 6 %');
    expect(items[2]).toContain('Dans la cible (0,70 g/L à 1,80 g/L) 68 %');
    expect(items[2]).toContain('objectif > 70 %');
    expect(items[4]).toContain('Très bas (sous 0,54 g/L) 1 %');
  });
});

import { describe, expect, it } from 'vitest';
import { render } from '@testing-library/svelte';
import TirStrip from './TirStrip.svelte';

describe('TirStrip', () => {
  it('draws each consensus band with its share, very low first, and says them', () => {
    const metrics = {
      below_54_percent: 2,
      between_54_69_percent: 5,
      tir_percent: 60,
      between_181_250_percent: 25,
      above_250_percent: 8,
    };
    const { getByTestId } = render(TirStrip, { metrics });
    const svg = getByTestId('tir-strip');
    const rects = [...svg.querySelectorAll('rect')].map((r) => [
      [...r.classList].find((c) => c.startsWith('seg-')),
      Number(r.getAttribute('x')),
      Number(r.getAttribute('width')),
    ]);
    expect(rects).toEqual([
      ['seg-very-low', 0, 2],
      ['seg-low', 2, 5],
      ['seg-in-range', 7, 60],
      ['seg-high', 67, 25],
      ['seg-very-high', 92, 8],
    ]);
    expect(svg.getAttribute('aria-label')).toBe(
      'très bas 2 %, bas 5 %, dans la cible 60 %, élevé 25 %, très élevé 8 %',
    );
  });
});

// The consensus time-in-ranges bands (Battelino 2019): shares, targets and bounds, top to bottom
// as a stacked bar draws them (very high first, very low last). Shared by the patient app's TIR
// bar and the care team's console (crates/ilot-server/console), so both say the same thing.

/** The metrics a TIR bar needs (field names of `ilot_rules::metrics::Metrics`). */
export interface TirShares {
  tir_percent: number | null;
  between_54_69_percent: number | null;
  below_54_percent: number | null;
  between_181_250_percent: number | null;
  above_250_percent: number | null;
}

export type BandId = 'very-high' | 'high' | 'in-range' | 'low' | 'very-low';

export interface Band {
  id: BandId;
  /** Share of readings, % (0 when unknown). */
  pct: number;
  /** The consensus target, as written on the report. */
  target: string;
  /** Bounds in mg/dL as the consensus writes them (whole mg/dL). */
  lo?: number;
  v: number;
}

export function tirBands(m: TirShares): Band[] {
  return [
    { id: 'very-high', pct: m.above_250_percent ?? 0, target: '< 5 %', v: 250 },
    { id: 'high', pct: m.between_181_250_percent ?? 0, target: '< 25 %', lo: 181, v: 250 },
    { id: 'in-range', pct: m.tir_percent ?? 0, target: '> 70 %', lo: 70, v: 180 },
    { id: 'low', pct: m.between_54_69_percent ?? 0, target: '< 4 %', lo: 54, v: 69 },
    { id: 'very-low', pct: m.below_54_percent ?? 0, target: '< 1 %', v: 54 },
  ];
}

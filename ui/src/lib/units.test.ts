import { describe, expect, it } from 'vitest';
import { checkGlucose, formatGlucose, fromMgDl, parseDecimal, plausibleRange, toMgDl } from './units';

// SPEC §3: 1 g/L = 100 mg/dL; 1 mmol/L = 18.016 mg/dL; display 2/0/1 decimals, French comma.
describe('units', () => {
  it.each([
    [1.26, 'g/L', 126],
    [1.8, 'g/L', 180],
    [0.7, 'g/L', 70],
    [10, 'mmol/L', 180.16],
    [5.5, 'mmol/L', 99.088],
    [126, 'mg/dL', 126],
  ] as const)('%s %s is %s mg/dL exactly', (v, unit, mg) => {
    expect(toMgDl(v, unit)).toBe(mg);
  });

  it.each([
    [126, 'g/L', 'fr', '1,26'],
    [126, 'g/L', 'en', '1.26'],
    [126, 'mg/dL', 'fr', '126'],
    [126, 'mmol/L', 'en', '7.0'],
    [126.11, 'mmol/L', 'fr', '7,0'],
    [55, 'g/L', 'fr', '0,55'],
  ] as const)('%s mg/dL shows as %s in %s (%s)', (mg, unit, lang, text) => {
    expect(formatGlucose(mg, unit, lang)).toBe(text);
  });

  it('keeps LO and HI as words', () => {
    expect(formatGlucose(null, 'g/L', 'fr', 'lo')).toBe('LO');
    expect(formatGlucose(null, 'mg/dL', 'fr', 'hi')).toBe('HI');
  });

  it('round-trips through every unit', () => {
    for (let mg = 10; mg <= 600; mg += 7.3) {
      for (const unit of ['g/L', 'mg/dL', 'mmol/L'] as const) {
        expect(Math.abs(toMgDl(fromMgDl(mg, unit), unit) - mg)).toBeLessThan(1e-5);
      }
    }
  });

  it.each([
    ['1,26', 1.26],
    [' 1.26 ', 1.26],
    ['126', 126],
    ['1,2,6', null],
    ['abc', null],
    ['', null],
    ['1e3', null],
  ] as const)('parses %j as %s', (text, v) => {
    expect(parseDecimal(text)).toBe(v);
  });

  it.each([
    ['', 'g/L', 'empty'],
    ['douze', 'g/L', 'not-a-number'],
    ['126', 'g/L', 'implausible'],
    ['0,05', 'g/L', 'implausible'],
    ['601', 'mg/dL', 'implausible'],
    ['40', 'mmol/L', 'implausible'],
  ] as const)('refuses %j in %s (%s)', (text, unit, error) => {
    expect(checkGlucose(text, unit)).toEqual({ ok: false, error });
  });

  it('accepts the plausible bounds, a French comma and LO/HI', () => {
    expect(checkGlucose('0,10', 'g/L')).toEqual({ ok: true, mgDl: 10, level: 'value' });
    expect(checkGlucose('600', 'mg/dL')).toEqual({ ok: true, mgDl: 600, level: 'value' });
    expect(checkGlucose('0,55', 'g/L')).toEqual({ ok: true, mgDl: 55, level: 'value' });
    expect(checkGlucose('lo', 'g/L')).toEqual({ ok: true, mgDl: null, level: 'lo' });
    expect(checkGlucose('HI', 'mmol/L')).toEqual({ ok: true, mgDl: null, level: 'hi' });
  });

  it('writes the plausible range in the unit', () => {
    expect(plausibleRange('g/L', 'fr')).toEqual({ min: '0,10', max: '6,00' });
    expect(plausibleRange('mmol/L', 'en')).toEqual({ min: '0.6', max: '33.3' });
  });
});

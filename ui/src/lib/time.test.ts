import { describe, expect, it } from 'vitest';
import { addDays, ago, localInput, localParts } from './time';
import { suggestContext } from './meal';
import { pinProblem } from './pin';
import { translate } from './i18n';

const t = (key: string, opts?: { values?: Record<string, string | number> }) => translate(key, opts?.values);

describe('time in words', () => {
  const now = new Date('2026-11-22T10:00:00Z');
  it.each([
    ['2026-11-22T09:59:40Z', 'à l\'instant'],
    ['2026-11-22T09:48:00Z', 'il y a 12 min'],
    ['2026-11-22T07:00:00Z', 'il y a 3 h'],
    ['2026-11-21T09:00:00Z', 'il y a 1 jour'],
    ['2026-11-19T09:00:00Z', 'il y a 3 jours'],
  ])('%s is "%s"', (at, text) => {
    expect(ago(at, now, t)).toBe(text);
  });

  it('reads local wall times in the patient zone across DST', () => {
    expect(localInput(new Date('2026-01-10T07:00:00Z'), 'Europe/Paris')).toBe('2026-01-10T08:00');
    expect(localInput(new Date('2026-07-10T06:00:00Z'), 'Europe/Paris')).toBe('2026-07-10T08:00');
    expect(localParts(new Date('2026-11-22T23:30:00Z'), 'Europe/Paris').date).toBe('2026-11-23');
  });

  it('adds days to calendar dates', () => {
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});

// Mirrors MealContext::suggest (crates/ilot-domain/src/entry.rs).
describe('meal context from the time of day', () => {
  it.each([
    [0, 'night'], [4, 'night'], [5, 'fasting'], [9, 'fasting'], [10, 'other'], [21, 'other'], [22, 'bedtime'], [23, 'bedtime'],
  ] as const)('%s h is %s', (h, c) => expect(suggestContext(h)).toBe(c));
});

// Mirrors pin::check_shape (src-tauri/src/pin.rs).
describe('PIN shape', () => {
  it.each([
    ['2580', null], ['93715', null], ['123', 'pin-shape'], ['123456789', 'pin-shape'], ['12a4', 'pin-shape'],
    ['1111', 'pin-guessable'], ['1234', 'pin-guessable'], ['4321', 'pin-guessable'], ['7890', 'pin-guessable'],
  ] as const)('%s → %s', (pin, problem) => expect(pinProblem(pin)).toBe(problem));
});

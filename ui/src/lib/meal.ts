// Meal context preselected from the local time of day, mirroring MealContext::suggest in
// crates/ilot-domain/src/entry.rs (00–04 night, 05–09 fasting, 22–23 bedtime, else other).

export type MealContext =
  | 'fasting'
  | 'before-meal'
  | 'after-meal-1h'
  | 'after-meal-2h'
  | 'bedtime'
  | 'night'
  | 'other';

export const MEAL_CONTEXTS: readonly MealContext[] = [
  'fasting',
  'before-meal',
  'after-meal-1h',
  'after-meal-2h',
  'bedtime',
  'night',
  'other',
];

export function suggestContext(localHour: number): MealContext {
  if (localHour <= 4) return 'night';
  if (localHour <= 9) return 'fasting';
  if (localHour >= 22) return 'bedtime';
  return 'other';
}

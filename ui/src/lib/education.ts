// The offline education modules: ids and how many short points each has in the catalogues
// (`edu.<id>.title`, `edu.<id>.1` … `edu.<id>.<n>`). The ids are also the nurse checklist's
// topics, stored as they are in education-session entries.

export interface Module {
  id: string;
  points: number;
}

export const MODULES: readonly Module[] = [
  { id: 'hypo', points: 5 },
  { id: 'hyper', points: 4 },
  { id: 'insulin', points: 5 },
  { id: 'meter', points: 5 },
  { id: 'meals', points: 4 },
  { id: 'sick-days', points: 5 },
  { id: 'when-to-call', points: 4 },
];

export const UNDERSTANDING = ['good', 'partial', 'to-review'] as const;
export type Understanding = (typeof UNDERSTANDING)[number];

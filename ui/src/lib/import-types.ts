// What the shell's `import_preview` and `import_commit` commands answer
// (src-tauri/src/commands/import.rs): a vendor export read, then written.

export interface ImportCounts {
  glucose: number;
  scans: number;
  insulin: number;
  carbs: number;
  notes: number;
  other: number;
}
export interface ImportRejected {
  line: number;
  /** The reason in English (the CLI's words). */
  reason: string;
  /** ilot-import's `REASON_CODES` or a domain error code: said from the catalogue. */
  code: string;
  params: Record<string, unknown> | null;
}
export interface ImportPreview {
  path: string;
  format: string;
  device: string | null;
  serial: string | null;
  from: string | null;
  to: string | null;
  counts: ImportCounts;
  new: number;
  already_present: number;
  rejected_total: number;
  rejected: ImportRejected[];
  skipped: Record<string, number>;
  items: boolean;
}
export interface ImportOutcome {
  added: number;
  already_present: number;
  conflicts: number;
  rejected: number;
}

/** Matching cursors in tests: `<epoch>-<seq>.<tag>`, the tag being the store's (lib/model/cursor.ts). */

/** A pattern for the cursor of (epoch, seq), whatever its tag. */
export function cursorAt(epoch: string, seq: number): RegExp {
  return new RegExp(`^${epoch}-${seq}\\.[0-9a-f]{8}$`);
}

/** The seq a cursor names. */
export function seqOf(cursor: string): number {
  return Number(/-(\d+)(?:\.[0-9a-f]{8})?$/.exec(cursor)![1]);
}

/** The epoch a cursor names. */
export function epochOf(cursor: string): string {
  return cursor.slice(0, cursor.indexOf('-'));
}

import { invalid } from '../model/errors.js';
import { DELTA_KINDS, type DeltaKind } from '../protocol.js';
import type { LogEntry } from '../model/records.js';

/** What one viewer wants to receive: `kinds` and `types` of a poll. */
export interface DeltaFilter {
  kinds: ReadonlySet<DeltaKind> | null;
  types: ReadonlySet<string> | null;
  /** Equal filters have equal keys: answers are serialised once per (cursor, key). */
  key: string;
}

/** The filter that lets everything through. */
export const ALL: DeltaFilter = Object.freeze({ kinds: null, types: null, key: '' });

const TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Parses the `kinds` and `types` query values (comma-separated); 400 naming the field. */
export function parseFilter(kinds: string | undefined, types: string | undefined): DeltaFilter {
  if ((kinds === undefined || kinds === '') && (types === undefined || types === '')) return ALL;
  const kindSet = kinds ? new Set<DeltaKind>() : null;
  for (const k of kinds ? kinds.split(',') : []) {
    if (!(DELTA_KINDS as readonly string[]).includes(k)) {
      throw invalid('kinds', `kinds must be a comma-separated list of ${DELTA_KINDS.join(', ')}`);
    }
    kindSet!.add(k as DeltaKind);
  }
  const typeSet = types ? new Set<string>() : null;
  for (const t of types ? types.split(',') : []) {
    if (!TYPE.test(t)) throw invalid('types', 'types must be a comma-separated list of names like goal,card');
    typeSet!.add(t);
  }
  if (typeSet && typeSet.size > 32) throw invalid('types', 'types may name at most 32 types');
  const key = `${kindSet ? [...kindSet].sort().join(',') : '*'}|${typeSet ? [...typeSet].sort().join(',') : '*'}`;
  return { kinds: kindSet, types: typeSet, key };
}

/** True when the viewer wants this entry. `types` narrows score and notice deltas only. */
export function wants(filter: DeltaFilter, entry: LogEntry): boolean {
  if (filter.kinds && !filter.kinds.has(entry.kind)) return false;
  if (filter.types && (entry.kind === 'score' || entry.kind === 'notice')) {
    return entry.type !== undefined && filter.types.has(entry.type);
  }
  return true;
}

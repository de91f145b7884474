/** Code blocks of the docs, for tests that run them as written. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The fenced code block of docs/<doc> whose first line starts with `first`. */
export function docExample(doc: string, first: string): string {
  const text = readFileSync(join(ROOT, 'docs', doc), 'utf8');
  for (const m of text.matchAll(/```\w*\n([\s\S]*?)```/g)) if (m[1]!.startsWith(first)) return m[1]!;
  throw new Error(`docs/${doc} has no code block starting "${first}"`);
}

#!/usr/bin/env -S node --max-semi-space-size=32
/*
 * The `holdline` command as npm links it (package.json "bin"): a plain-JS file that always
 * exists, so the link is made even before anything is built. In a checkout (the TypeScript
 * sources beside it and tsx installed) it runs the sources, so `npx holdline` never runs a stale
 * build; in an installed package it runs the build in dist/. The entry's `main()` is called
 * directly: npm starts this file through a symlink, and comparing paths is what went wrong before.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'bin', 'holdline.ts');
const built = join(root, 'dist', 'bin', 'holdline.js');

/** tsx's ESM API, when the dev dependencies are installed (they are in a checkout after npm ci). */
async function tsxApi() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return null;
  }
}

let entry;
const tsx = existsSync(source) ? await tsxApi() : null;
if (tsx) {
  tsx.register();
  entry = source;
} else if (existsSync(built)) {
  entry = built;
} else {
  process.stderr.write(`holdline: not built yet (${built} is missing). Run \`npm run build\` in ${root}, or install the dev dependencies (npm ci) to run the sources.\n`);
  process.exit(3);
}
const { main } = await import(pathToFileURL(entry).href);
await main(process.argv.slice(2));

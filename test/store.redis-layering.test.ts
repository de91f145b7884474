import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every .ts file under the given top-level folders. */
function sources(dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) out.push(relative(ROOT, path));
    }
  };
  for (const dir of dirs) {
    try {
      walk(join(ROOT, dir));
    } catch {
      // a folder that does not exist yet
    }
  }
  return out;
}

describe('the Redis client stays inside the Redis store', function () {
  it('is imported only by lib/store/redis*.ts', function () {
    const importers = sources(['bin', 'lib', 'routes', 'examples', 'bench', 'test']).filter((file) =>
      /from\s+['"]ioredis['"]|import\(\s*['"]ioredis['"]\s*\)/.test(readFileSync(join(ROOT, file), 'utf8')),
    );
    expect(importers.filter((f) => !/^lib\/store\/redis[^/]*\.ts$/.test(f))).to.deep.equal([]);
    expect(importers).to.include('lib/store/redis-link.ts');
  });
});

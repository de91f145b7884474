import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinePicker } from '../../demo/fans.js';
import { demoEnv, demoSecret, guestClaims, readDemoSecret, writeDemoToken } from '../../demo/state.js';

describe('demo mode state (demo/state.ts)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'holdline-demo-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the demo secret once, owner-only, and reads the same one back', () => {
    expect(readDemoSecret(dir)).to.equal(null);
    const first = demoSecret(dir);
    expect(first.created).to.equal(true);
    expect(first.secret).to.match(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, '.holdline', 'demo-secret')).mode & 0o777).to.equal(0o600);
    expect(demoSecret(dir)).to.deep.equal({ secret: first.secret, created: false });
    expect(readDemoSecret(dir)).to.equal(first.secret);
  });

  it('writes the admin token where the README reads it, owner-only', () => {
    expect(writeDemoToken('a.b.c', dir)).to.equal(join('.holdline', 'demo-token'));
    expect(readFileSync(join(dir, '.holdline', 'demo-token'), 'utf8')).to.equal('a.b.c\n');
    expect(statSync(join(dir, '.holdline', 'demo-token')).mode & 0o777).to.equal(0o600);
  });

  it('gives demo mode a quiet request log and the demo secret, while the environment wins', () => {
    const env = demoEnv({}, dir);
    expect(env['LOG_REQUESTS']).to.equal('debug');
    expect(env['JWT_SECRET']).to.equal(readDemoSecret(dir));
    expect(demoEnv({ LOG_REQUESTS: 'info', JWT_SECRET: 'x'.repeat(40) }, dir)).to.include({ LOG_REQUESTS: 'info', JWT_SECRET: 'x'.repeat(40) });
    // A public key configured: no secret beside it (the config would refuse two keys).
    expect(demoEnv({ JWT_PUBLIC_KEY: '/k.pem' }, dir)).not.to.have.property('JWT_SECRET');
  });

  it('names guests and limits their tokens to the demo events', () => {
    const c = guestClaims(['demo-a', 'demo-b'], () => 0.5);
    expect(c.name).to.equal('Guest 5500');
    expect(c.sub).to.match(/^guest-5500-[0-9a-z]{4}$/);
    expect(c.events).to.deep.equal(['demo-a', 'demo-b']);
  });
});

describe('scripted fans\' lines (demo/fans.ts LinePicker)', () => {
  it('never says a line again while it is among the last ones said', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const picker = new LinePicker(random, 8);
    const pool = Array.from({ length: 12 }, (_, i) => `line ${i}`);
    const said: string[] = [];
    for (let i = 0; i < 200; i++) said.push(picker.pick(pool)!);
    for (let i = 8; i < said.length; i++) expect(said.slice(i - 8, i), `line ${i}`).not.to.include(said[i]);
    expect(new Set(said).size).to.equal(12);
  });

  it('falls back to the longest-ago line when every line was said lately', () => {
    const picker = new LinePicker(() => 0, 8);
    expect([picker.pick(['a', 'b']), picker.pick(['a', 'b']), picker.pick(['a', 'b'])]).to.deep.equal(['a', 'b', 'a']);
    expect(picker.pick([])).to.equal(null);
  });
});

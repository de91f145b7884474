import { expect } from 'chai';
import { randomId } from '../../lib/util/uuid.js';

describe('randomId()', () => {
  it('gives version 4 UUIDs in the form crypto.randomUUID gives', () => {
    for (let i = 0; i < 1000; i++) expect(randomId()).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('never repeats across many pool refills, and uses every hex digit in every random place', () => {
    const seen = new Set<string>();
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 20_000; i++) {
      const id = randomId();
      seen.add(id);
      for (let j = 0; j < 36; j++) digits[j]!.add(id[j]!);
    }
    expect(seen.size).to.equal(20_000);
    for (const j of [0, 7, 9, 15, 20, 35]) expect(digits[j]!.size, `place ${j}`).to.equal(16);
    expect(digits[14]!.size).to.equal(1);
    expect(digits[19]!.size).to.equal(4);
  });
});

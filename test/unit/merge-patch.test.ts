import { expect } from 'chai';
import { mergePatch } from '../../lib/model/merge-patch.js';
import type { JsonValue } from '../../lib/protocol.js';

// The examples of RFC 7396, appendix A.
const RFC_CASES: Array<[JsonValue, JsonValue, JsonValue]> = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe('mergePatch (RFC 7396)', () => {
  RFC_CASES.forEach(([target, patch, result], i) => {
    it(`applies appendix A example ${i + 1}`, () => {
      expect(mergePatch(target, patch)).to.deep.equal(result);
    });
  });

  it('leaves its inputs untouched', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergePatch(target, patch);
    expect(target).to.deep.equal({ a: { b: 1 } });
    expect(patch).to.deep.equal({ a: { c: 2 } });
  });

  it('never reaches a prototype through a __proto__ key', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as JsonValue;
    const result = mergePatch({}, patch) as Record<string, unknown>;
    expect(result['ok']).to.equal(1);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    expect(Object.getPrototypeOf(result)).to.equal(Object.prototype);
  });
});

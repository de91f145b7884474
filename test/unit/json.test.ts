import { expect } from 'chai';
import { HubError } from '../../lib/model/errors.js';
import { assertSafeJson, codePointLength, parseJsonBody } from '../../lib/model/json.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as HubError).code;
  }
  return undefined;
}

describe('untrusted JSON', () => {
  it('accepts 32 levels and refuses 33', () => {
    const nest = (n: number): string => (n === 0 ? '1' : `{"a":${nest(n - 1)}}`);
    expect(code(() => parseJsonBody(nest(31)))).to.equal(undefined);
    expect(code(() => parseJsonBody(nest(33)))).to.equal('invalid_json');
  });

  it('survives very deep arrays without exhausting the stack', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(code(() => parseJsonBody(deep))).to.equal('invalid_json');
  });

  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`refuses a "${key}" key anywhere, naming where`, () => {
      try {
        assertSafeJson(JSON.parse(`{"data":{"list":[{"${key}":{}}]}}`));
        expect.fail('should throw');
      } catch (err) {
        expect((err as HubError).code).to.equal('invalid_request');
        expect((err as HubError).field).to.equal(`body.data.list[0].${key}`);
      }
    });
  }

  it('maps syntax errors to invalid_json naming the body', () => {
    try {
      parseJsonBody('{"a":');
      expect.fail('should throw');
    } catch (err) {
      expect((err as HubError).code).to.equal('invalid_json');
      expect((err as HubError).field).to.equal('body');
    }
  });

  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('⚽🏏')).to.equal(2);
  });
});

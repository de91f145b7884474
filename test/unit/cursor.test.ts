import { expect } from 'chai';
import { formatCursor, newEpoch, parseCursor } from '../../lib/model/cursor.js';
import { HubError } from '../../lib/model/errors.js';

describe('cursor', () => {
  it('round-trips <epoch>-<seq>.<tag>', () => {
    expect(parseCursor(formatCursor('k3f9x2', 45, '0a1b2c3d'))).to.deep.equal({ epoch: 'k3f9x2', seq: 45, tag: '0a1b2c3d' });
  });

  it('still reads a cursor without a tag (issued before tags), as unverified', () => {
    expect(parseCursor('k3f9x2-45')).to.deep.equal({ epoch: 'k3f9x2', seq: 45, tag: null });
  });

  for (const bad of ['', 'k3f9x2', 'k3f9x2-', '-45', 'K3F9-1', 'abc-1.5', 'a-1234567890123456', `${'a'.repeat(17)}-1`, 'a-b-1', 'a--1', 'a-1.', 'a-1.0a1b2c3', 'a-1.0A1B2C3D', 'a-1.0a1b2c3d4']) {
    it(`refuses "${bad}" with 400 invalid_cursor`, () => {
      try {
        parseCursor(bad);
        expect.fail('should throw');
      } catch (err) {
        expect(err).to.be.instanceOf(HubError);
        expect((err as HubError).code).to.equal('invalid_cursor');
        expect((err as HubError).field).to.equal('cursor');
      }
    });
  }

  it('makes epochs that fit the cursor pattern and differ each time', () => {
    const a = newEpoch();
    const b = newEpoch();
    expect(a).to.match(/^[a-z0-9]{1,16}$/);
    expect(a).to.not.equal(b);
  });
});

import { expect } from 'chai';
import { simulate } from '../tools/simulator/index.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('simulate() against the real holdline server', function () {
  this.timeout(60_000);
  let server: TestServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it('has 500 viewers receive every score update once and in order', async () => {
    server = await startTestServer();
    const report = await simulate({
      url: server.url,
      token: server.adminToken,
      events: ['sim-holdline'],
      viewers: 500,
      rampMs: 500,
      durationMs: 3000,
      publishRate: 10,
    });
    expect(report).to.include({ connected: 500, gaps: 0, duplicates: 0, outOfOrder: 0, resets: 0, behind: 0, ok: true });
    expect(report.published).to.be.greaterThan(0);
    expect(report.publishErrors).to.deep.equal({});
    expect(report.delivered).to.equal(500 * report.published);
  });
});

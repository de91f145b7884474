import { expect } from 'chai';
import { nchanConfig, findNchan, startNchan } from '../bench/lib/nchan.js';
import { simulate } from '../tools/simulator/index.js';

// The bench's C reference: nginx + nchan started from bench/lib/nchan.ts and driven by the
// simulator's Nchan dialect. .ci/run installs both; a missing Nchan is a failure, never a skip.
describe('bench: Nchan as the C reference (bench/lib/nchan.ts)', function () {
  this.timeout(30_000);

  it('finds nginx with the nchan module', () => {
    expect(findNchan(), 'nginx and libnginx-mod-nchan must be installed (.ci/run installs them)').to.not.equal(null);
  });

  it('configures one worker, multipart long-polling and its own temp dir on 127.0.0.1', () => {
    const conf = nchanConfig(findNchan()!, '/tmp/x', 12345, { bufferLength: 64, holdSec: 7 });
    expect(conf).to.include('worker_processes 1;').and.include('listen 127.0.0.1:12345').and.include('nchan_longpoll_multipart_response on;');
    expect(conf).to.include('nchan_message_buffer_length 64;').and.include('nchan_subscriber_timeout 7s;').and.include('pid /tmp/x/nginx.pid;');
  });

  it('delivers every update to every simulated viewer once, in order, and stops cleanly', async () => {
    const server = await startNchan(findNchan()!, null);
    try {
      const report = await simulate({ url: server.url, events: ['m1'], viewers: 50, rampMs: 100, durationMs: 1000, publishRate: 20, protocol: 'nchan', settleMs: 5000 });
      expect(report.ok, JSON.stringify(report.perViewer.slice(0, 3))).to.equal(true);
      expect(report.connected).to.equal(50);
      expect(report.published).to.be.greaterThan(5);
      // Each viewer also got the message that opened the channel.
      expect(report.delivered).to.equal((report.published + 1) * 50);
      expect(report.gaps + report.duplicates + report.outOfOrder + report.behind).to.equal(0);
    } finally {
      await server.stop();
    }
    const down = await fetch(`${server.url}/healthz`).then(
      () => 'up',
      () => 'down',
    );
    expect(down).to.equal('down');
  });
});

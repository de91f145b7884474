import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { HubError } from '../../lib/model/errors.js';
import { cancelOnClose, ResponseSink } from '../../lib/http/hold.js';

/** The few ServerResponse members the sink and cancelOnClose touch. */
function fakeResponse(state: { destroyed?: boolean; writableEnded?: boolean } = {}) {
  const written: Array<{ status: number; head: string[]; body: string }> = [];
  let onClose: (() => void) | null = null;
  const res = {
    destroyed: state.destroyed ?? false,
    writableEnded: state.writableEnded ?? false,
    writableFinished: false,
    headersSent: false,
    once: (event: string, fn: () => void) => void (event === 'close' && (onClose = fn)),
    writeHead(status: number, head: string[]) {
      written.push({ status, head, body: '' });
      this.headersSent = true;
    },
    end(bytes: Buffer) {
      written[written.length - 1]!.body = bytes.toString();
    },
  };
  return { res: res as unknown as ServerResponse, written, close: () => onClose?.() };
}

describe('lib/http/hold.ts', () => {
  it('cancels at once a hold whose client was gone before it could listen for close', () => {
    let cancelled = 0;
    cancelOnClose(fakeResponse({ destroyed: true }).res, { cancel: () => void cancelled++ });
    expect(cancelled).to.equal(1);
    const alive = fakeResponse();
    cancelOnClose(alive.res, { cancel: () => void cancelled++ });
    expect(cancelled).to.equal(1);
    alive.close();
    expect(cancelled, 'an unanswered response that closes cancels its hold').to.equal(2);
  });

  it('logs a held refusal by the error middleware rule: every 5xx but a drain', () => {
    const logged: string[] = [];
    const sinkFor = () => {
      const fake = fakeResponse();
      const sink = new ResponseSink(fake.res, [], ['X-Request-Id', 'r1'], undefined, (err) => void logged.push((err as HubError).code), { method: 'GET', path: '/p', reqId: 'r1' }, () => false);
      return { sink, fake };
    };
    for (const code of ['unavailable', 'internal', 'draining', 'not_found'] as const) sinkFor().sink.fail(new HubError(code, code));
    expect(logged).to.deep.equal(['unavailable', 'internal']);
    const { sink, fake } = sinkFor();
    sink.fail(new HubError('rate_limited', 'slow down', { retryAfterS: 5 }));
    expect(fake.written[0]!.status).to.equal(429);
    expect(fake.written[0]!.head).to.include.members(['X-Request-Id', 'r1', 'Retry-After', '5']);
  });
});

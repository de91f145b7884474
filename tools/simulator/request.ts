/** One-off requests for set-up (creating events) over the simulator's own connection type. */
import { HttpConn, SourceAddresses } from './http-conn.js';

/** A completed one-off request. */
export interface OneOffAnswer {
  status: number;
  body: Buffer;
}

/** Send one request and close its connection; rejects on socket errors or after `timeoutMs`. */
export function request(
  url: URL,
  method: string,
  path: string,
  options: { body?: unknown; authorization?: string; timeoutMs?: number } = {},
): Promise<OneOffAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? null : Buffer.from(JSON.stringify(options.body));
    let timer: NodeJS.Timeout | undefined;
    const conn: HttpConn = new HttpConn(url.hostname, Number(url.port || 80), new SourceAddresses(url.hostname), {
      onResponse(status, answer) {
        clearTimeout(timer);
        conn.close();
        resolve({ status, body: Buffer.from(answer) });
      },
      onError(code) {
        clearTimeout(timer);
        conn.close();
        reject(new Error(`${method} ${path}: ${code}`));
      },
    });
    timer = setTimeout(() => conn.abort('timeout'), options.timeoutMs ?? 10_000);
    const head =
      `${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      (options.authorization ? `Authorization: ${options.authorization}\r\n` : '') +
      (body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : 'Content-Length: 0\r\n') +
      '\r\n';
    conn.send(body ? [head, body] : [head]);
  });
}

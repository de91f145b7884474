/** A tiny publisher client over fetch: what a scorer's tool would do to drive an event. */
export class PublisherApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** Sends one request and returns the parsed JSON answer; throws with the server's error text. */
  async send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (signal) init.signal = signal;
    const res = await fetch(new URL(path, this.baseUrl), init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text === '' ? null : JSON.parse(text);
  }

  /** Creates or updates an event. */
  putEvent(id: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    return this.send('PUT', `/events/${encodeURIComponent(id)}`, body, signal);
  }

  /** Publishes a score update. */
  score(id: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    return this.send('POST', `/events/${encodeURIComponent(id)}/scores`, body, signal);
  }

  /** Publishes a notice. */
  notice(id: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    return this.send('POST', `/events/${encodeURIComponent(id)}/notices`, body, signal);
  }
}

/** Resolves after ms, or rejects at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

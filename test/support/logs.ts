import { Writable } from 'node:stream';

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown> & { level: string; msg?: string };

/** A pino destination that keeps every line, raw and parsed, for assertions. */
export class LogCapture extends Writable {
  readonly raw: string[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') this.raw.push(line);
    done();
  }

  /** Every line parsed. */
  get lines(): LogLine[] {
    return this.raw.map((l) => JSON.parse(l) as LogLine);
  }

  /** Lines with this message. */
  find(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }

  /** Everything written, as one string (for "never contains" checks). */
  get text(): string {
    return this.raw.join('\n');
  }
}

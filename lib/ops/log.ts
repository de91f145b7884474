import { unescape } from 'node:querystring';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Where a token could hide in a logged object; pino censors these whatever logs them. */
const REDACT = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'access_token',
  'token',
  '*.authorization',
  '*.access_token',
  '*.token',
];

/**
 * The process's JSON logger: one object per line on stdout (or `destination`, which tests
 * capture), ISO timestamps, the level as a word, and token-bearing fields censored.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'holdline' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * A query string fit for logs: the value of every `access_token` (however its name is
 * percent-encoded) replaced, the rest kept as sent.
 */
export function redactQuery(query: string): string {
  if (query === '') return query;
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return unescape(name.replace(/\+/g, ' ')).trim().toLowerCase() === 'access_token' ? `${name}=[redacted]` : pair;
    })
    .join('&');
}

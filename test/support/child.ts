/** `holdline serve` as a real child process, for tests of signals and exit codes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_METRICS_TOKEN } from './server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One JSON log line of the child (pino, on stdout). */
export type ChildLog = Record<string, unknown> & { level?: string; msg?: string };

export interface ChildServer {
  child: ChildProcess;
  url: string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  /** Everything the process wrote to stderr so far (human text: the dev banner, fatal messages). */
  stderr(): string;
  /** Everything the process wrote to stdout so far (its JSON logs). */
  stdout(): string;
  /** The JSON log lines written so far, parsed. */
  logs(): ChildLog[];
  /** Kills the process by its PID if it is still running (cleanup; idempotent). */
  kill(): void;
}

/** Parses JSON lines, skipping anything else. */
function parseLines(text: string): ChildLog[] {
  const out: ChildLog[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as ChildLog);
    } catch {
      // A line cut mid-write: the rest arrives with the next chunk.
    }
  }
  return out;
}

/**
 * Spawns `node --import tsx bin/holdline.ts serve [args]` on PORT=0 (with the tests' METRICS_TOKEN
 * unless env says otherwise) and waits for its "listening" log line.
 */
export async function startChildServer(env: Record<string, string>, startTimeoutMs = 60_000, args: string[] = []): Promise<ChildServer> {
  // The URL comes from the info-level "listening" line: a quieter level would hide it.
  if (env['LOG_LEVEL'] !== undefined && !['info', 'debug', 'trace'].includes(env['LOG_LEVEL'])) {
    throw new Error(`startChildServer needs LOG_LEVEL info or lower to read the listening line, got ${env['LOG_LEVEL']}`);
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/holdline.ts', 'serve', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', METRICS_TOKEN: TEST_METRICS_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`holdline did not start within ${startTimeoutMs} ms:\n${stderr}${stdout}`)), startTimeoutMs);
      const onData = () => {
        const listening = parseLines(stdout).find((l) => l.msg === 'listening');
        if (typeof listening?.['url'] !== 'string') return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(listening['url']);
      };
      child.stdout!.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`holdline exited (${code}) before listening:\n${stderr}${stdout}`));
      });
    });
    return { child, url, exited, stderr: () => stderr, stdout: () => stdout, logs: () => parseLines(stdout), kill };
  } catch (err) {
    kill();
    throw err;
  }
}

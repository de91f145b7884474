/** `holdline serve` as a real child process, for tests of signals and exit codes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildServer {
  child: ChildProcess;
  url: string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Kills the process by its PID if it is still running (cleanup; idempotent). */
  kill(): void;
}

/** Spawns `node --import tsx bin/holdline.ts serve` on PORT=0 and waits for its listening line. */
export async function startChildServer(env: Record<string, string>, startTimeoutMs = 60_000): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/holdline.ts', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`holdline did not start within ${startTimeoutMs} ms:\n${stderr}`)), startTimeoutMs);
      const onData = () => {
        const m = /holdline listening on (http:\/\/\S+)/.exec(stderr);
        if (!m) return;
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve(m[1]!);
      };
      child.stderr!.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`holdline exited (${code}) before listening:\n${stderr}`));
      });
    });
    return { child, url, exited, stderr: () => stderr, kill };
  } catch (err) {
    kill();
    throw err;
  }
}

/**
 * The command line's surface: commands, flags, help texts and exit codes, on commander. What a
 * command does is bin/holdline.ts's (serve, token) and the simulator's (simulate); this file only
 * turns argv into their options, refuses what it does not understand (suggesting the closest
 * command or flag), and maps every outcome to a documented exit status.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DELTA_KINDS } from '../lib/protocol.js';
import { parseDuration, type SimulateOutcome } from '../tools/simulator/cli.js';
import type { SimulateOptions } from '../tools/simulator/index.js';

/** Exit statuses, one meaning each; `--help` and docs/OPERATIONS.md print this table. */
export const EXIT = {
  ok: 0,
  /** simulate: a viewer lost, repeated or reordered a delta, ended behind, or never joined. */
  problems: 1,
  usage: 2,
  /** serve: the drain cut requests in flight, or did not finish within DRAIN_TIMEOUT_MS. */
  drainCut: 3,
  config: 4,
  unreachable: 5,
  noEvent: 6,
  token: 7,
  noPublisher: 8,
  unavailable: 9,
} as const;

export type ExitName = keyof typeof EXIT;

/** The table as help text prints it (and the docs test compares against). */
export const EXIT_TABLE: ReadonlyArray<readonly [ExitName, string]> = [
  ['ok', 'done (serve: drained cleanly after SIGTERM or SIGINT)'],
  ['problems', 'simulate: a viewer lost, duplicated or reordered a delta, ended behind, or never joined'],
  ['usage', 'bad command line: unknown command or flag, missing or malformed value'],
  ['drainCut', 'serve: the drain cut requests in flight, or did not finish within DRAIN_TIMEOUT_MS'],
  ['config', 'bad configuration or start-up failure: an environment variable, a key file, the port'],
  ['unreachable', 'simulate: no server answered at --url'],
  ['noEvent', 'simulate: no such event, and no token to create it'],
  ['token', 'simulate: no token, or the token was refused, where one is needed'],
  ['noPublisher', 'simulate: nothing was published during the run, so nothing was measured'],
  ['unavailable', 'simulate: the server lacks a protocol feature the run needs'],
];

const SIMULATE_EXITS: Record<SimulateOutcome, ExitName> = {
  ok: 'ok',
  problems: 'problems',
  unreachable: 'unreachable',
  'no-event': 'noEvent',
  token: 'token',
  'no-publisher': 'noPublisher',
  unavailable: 'unavailable',
  usage: 'usage',
};

/** Scopes a token may carry (lib/auth.ts ignores any other word, so a typo would mint nothing). */
export const TOKEN_SCOPES = ['publish', 'admin'] as const;

/** What `holdline serve` was asked for. */
export interface ServeFlags {
  demo: boolean;
  /** Development mode: allowed to run without a key (random secret, admin token on stderr). */
  dev: boolean;
  port?: number;
  host?: string;
}

/** What `holdline token` was asked for. */
export interface TokenFlags {
  sub?: string;
  name?: string;
  scope: string[];
  events?: string[];
  ttl: number;
  privateKey?: string;
  kid?: string;
}

/** What `holdline simulate` was asked for. */
export interface SimulateFlags {
  options: SimulateOptions;
  json: boolean;
  progress: boolean;
}

/** The actions behind the commands; each resolves to an exit name (serve resolves when it is up). */
export interface Actions {
  serve(flags: ServeFlags): Promise<ExitName | void>;
  token(flags: TokenFlags): Promise<ExitName | void>;
  simulate(flags: SimulateFlags): Promise<SimulateOutcome>;
}

/** A failure the user can fix, with the exit status it means (bad key file, missing secret…). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exit: ExitName,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The package's version, read from the package.json above bin/ (or above dist/bin/ once built). */
export function packageVersion(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', 'package.json'), join(here, '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'holdline' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

const positiveInt = (what: string) => (text: string): number => {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new InvalidArgumentError(`${what} must be a whole number of 1 or more`);
  return Number(text);
};

const nonNegative = (flag: string) => (text: string): number => {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new InvalidArgumentError(`--${flag} must be a non-negative number, got "${text}"`);
  return value;
};

const duration = (flag: string) => (text: string): number => {
  try {
    return parseDuration(text, flag);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

const port = (text: string): number => {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new InvalidArgumentError('a port is a whole number from 0 (any free port) to 65535');
  return Number(text);
};

const list = (text: string, previous: string[] = []): string[] => [...previous, ...text.split(',').map((s) => s.trim()).filter((s) => s !== '')];

const collect = (text: string, previous: string[] = []): string[] => [...previous, text];

/** Scope words separated by spaces or commas, each one the server knows. */
function scopes(text: string, previous: string[] = []): string[] {
  const words = text.split(/[\s,]+/).filter((w) => w !== '');
  for (const word of words) {
    if (!(TOKEN_SCOPES as readonly string[]).includes(word)) {
      const near = closest(word, TOKEN_SCOPES);
      throw new InvalidArgumentError(`unknown scope "${word}"${near ? ` (did you mean "${near}"?)` : ''}; scopes are ${TOKEN_SCOPES.join(' and ')}`);
    }
  }
  return [...new Set([...previous, ...words])];
}

/** The candidate within edit distance 2 of `word`, if there is one. */
function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The exit-status lines for `names` (all of them by default). */
function exitEpilogue(names?: readonly ExitName[]): string {
  const rows = names ? EXIT_TABLE.filter(([name]) => names.includes(name)) : EXIT_TABLE;
  const lines = rows.map(([name, meaning]) => `  ${String(EXIT[name]).padStart(2)}  ${meaning.replace(/^simulate: /, names ? '' : 'simulate: ')}`);
  return `\nExit status:\n${lines.join('\n')}`;
}

/** Where the program writes; tests pass their own. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Builds the `holdline` program; `result.exit` holds the action's exit name once parsed. */
export function buildProgram(actions: Actions, output: Output, env: NodeJS.ProcessEnv = process.env): { program: Command; result: { exit: ExitName } } {
  const result: { exit: ExitName } = { exit: 'ok' };
  const program = new Command('holdline');
  program
    .description('A long-polling-first live-event hub: follow live events over plain HTTP.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help')
    .helpCommand(false)
    .configureOutput({ writeOut: output.out, writeErr: output.err, outputError: (text, write) => write(text) })
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false)
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  holdline serve --demo                     serve on 127.0.0.1:8080 and play four demo events
  JWT_SECRET=… holdline token --sub alice --scope publish
  holdline simulate --event demo-cricket --viewers 100 --duration 30s

Configuration is read from environment variables (PORT, HOST, REDIS_URL, JWT_SECRET, …);
the full table is docs/OPERATIONS.md.
${exitEpilogue()}`,
    );

  program
    .command('serve')
    .description('run the server until SIGTERM or SIGINT, then drain and exit 0')
    .option('--demo', 'demo mode: play four live events (demo-football, demo-cricket, demo-chess, demo-workout) with scripted fans, quiet request logs, and an admin token printed once and kept in .holdline/demo-token; serves the demo pages under /demo/')
    .option('--dev', 'development mode: run without JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL, with a random secret and an admin token on stderr')
    .addOption(new Option('--port <port>', 'listen on this port (0: any free port); overrides PORT').argParser(port))
    .addOption(new Option('--host <address>', 'listen on this address; overrides HOST'))
    .addHelpText(
      'after',
      `
Every other setting is an environment variable (docs/OPERATIONS.md#configure). One of
JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL is required: without one the server refuses to
start, unless --dev asks for development mode (a random secret, an admin token on stderr).
--demo without a key signs with a secret kept in .holdline/demo-secret (so \`holdline token\`
in this folder mints tokens it accepts).

Examples:
  holdline serve --demo
  holdline serve --dev
  JWT_SECRET="$(openssl rand -hex 32)" REDIS_URL=redis://127.0.0.1:6379 holdline serve --port 8081
${exitEpilogue(['ok', 'usage', 'drainCut', 'config'])}`,
    )
    .action(async (opts: { demo?: boolean; dev?: boolean; port?: number; host?: string }) => {
      const flags: ServeFlags = { demo: opts.demo === true, dev: opts.dev === true };
      if (opts.port !== undefined) flags.port = opts.port;
      if (opts.host !== undefined) flags.host = opts.host;
      result.exit = (await actions.serve(flags)) ?? 'ok';
    });

  program
    .command('token')
    .description('print a signed JWT for the given claims (signed with JWT_SECRET, --private-key, or the demo secret of this folder)')
    .option('--sub <id>', 'subject: the user or publisher id (chat and presence use it)')
    .option('--name <name>', 'display name shown with chat messages')
    .addOption(new Option('--scope <scopes>', `what it may do: ${TOKEN_SCOPES.join(', ')} (space- or comma-separated, repeatable; none = a viewer)`).argParser(scopes))
    .addOption(new Option('--events <ids>', 'private events it may read, comma-separated (repeatable)').argParser(list))
    .addOption(new Option('--ttl <seconds>', 'lifetime in seconds').argParser(positiveInt('--ttl')).default(3600))
    .option('--private-key <file>', 'sign with this PEM private key (RS256, ES256/384/512 or EdDSA by its type) instead of JWT_SECRET')
    .option('--kid <id>', 'key id put in the header, for servers that verify against a JWKS')
    .addHelpText(
      'after',
      `
The key: --private-key if given, else JWT_SECRET, else .holdline/demo-secret (the secret
\`holdline serve --demo\` or \`npm start\` in this folder signs with). JWT_ISSUER and
JWT_AUDIENCE, when set, become the iss and aud claims.

Examples:
  JWT_SECRET=… holdline token --sub alice --name Alice --ttl 3600
  JWT_SECRET=… holdline token --sub scorer --scope publish --events final,semi-1
  holdline token --private-key private.pem --kid 2026-01 --sub scorer --scope publish
${exitEpilogue(['ok', 'usage', 'config'])}`,
    )
    .action(async (opts: { sub?: string; name?: string; scope?: string[]; events?: string[]; ttl: number; privateKey?: string; kid?: string }) => {
      const flags: TokenFlags = { scope: opts.scope ?? [], ttl: opts.ttl };
      if (opts.sub !== undefined) flags.sub = opts.sub;
      if (opts.name !== undefined) flags.name = opts.name;
      if (opts.events !== undefined) flags.events = opts.events;
      if (opts.privateKey !== undefined) flags.privateKey = opts.privateKey;
      if (opts.kid !== undefined) flags.kid = opts.kid;
      result.exit = (await actions.token(flags)) ?? 'ok';
    });

  program
    .command('simulate')
    .description('simulated viewers follow events; counts every lost, duplicated or reordered delta')
    .addOption(new Option('--url <url>', 'server base URL').default(env['HOLDLINE_URL'] ?? 'http://127.0.0.1:8080', '$HOLDLINE_URL or http://127.0.0.1:8080'))
    .addOption(new Option('--event <id>', 'event to follow; repeat for a multi-event poll (default sim-1)').argParser(collect))
    .addOption(new Option('--viewers <n>', 'concurrent viewers, one keep-alive socket each').argParser(positiveInt('--viewers')).default(100))
    .addOption(new Option('--ramp <duration>', 'spread the joins over this long (5s, 500ms)').argParser(duration('ramp')).default(0, '0'))
    .addOption(new Option('--duration <duration>', 'publish (and keep polling) for this long once all joined').argParser(duration('duration')).default(10_000, '10s'))
    .addOption(new Option('--publish-rate <n>', 'score updates per second the simulator publishes (needs --token)').argParser(nonNegative('publish-rate')).default(0))
    .addOption(new Option('--publishes <n>', 'stop publishing after this many updates').argParser(nonNegative('publishes')))
    .addOption(new Option('--token <jwt>', 'publisher token: creates the events and publishes to them (default: $HOLDLINE_TOKEN)').default(env['HOLDLINE_TOKEN']))
    .addOption(new Option('--reactions-rate <n>', 'anonymous reactions per second').argParser(nonNegative('reactions-rate')).default(0))
    .addOption(new Option('--kinds <kinds>', `kinds= filter for every poll: ${DELTA_KINDS.join(',')}`).argParser(list))
    .addOption(new Option('--transport <transport>', 'how viewers follow: poll (long polling), sse, ws, or auto (join by polling, then WebSocket, else SSE, else polling)').choices(['poll', 'sse', 'ws', 'auto']).default('poll'))
    .addOption(new Option('--seed <n>', 'seed of the update schedule').argParser(nonNegative('seed')).default(1))
    .addOption(new Option('--timeout <seconds>', 'pin timeout= (hold seconds) for every poll (default: each viewer fits its hold to the path as the browser client does)').argParser(nonNegative('timeout')))
    .addOption(new Option('--max-latency <duration>', 'fail the run when an update reaches a viewer later than this (3s, 500ms)').argParser(duration('max-latency')))
    .addOption(new Option('--settle <duration>', 'longest wait for viewers to catch up after publishing').argParser(duration('settle')).default(10_000, '10s'))
    .option('--json', 'print one JSON report on stdout, no progress bar')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      `
Fan-out latency is measured on the simulator's own score updates (they carry their send time):
give --publish-rate and a publisher --token to measure it. Without them the viewers follow
whatever another publisher sends (npm start plays demo-*), and are checked for gaps only.

Examples:
  holdline simulate --event demo-cricket --viewers 1000 --duration 30s
  holdline simulate --event m1 --viewers 500 --publish-rate 20 --token "$TOKEN"
  holdline simulate --event m1 --viewers 500 --publish-rate 20 --token "$TOKEN" --transport ws
${exitEpilogue(['ok', 'problems', 'usage', 'unreachable', 'noEvent', 'token', 'noPublisher', 'unavailable'])}`,
    )
    .action(
      async (opts: {
        url: string;
        event?: string[];
        viewers: number;
        ramp: number;
        duration: number;
        publishRate: number;
        publishes?: number;
        token?: string;
        reactionsRate: number;
        kinds?: string[];
        transport: 'poll' | 'sse' | 'ws' | 'auto';
        seed: number;
        timeout?: number;
        maxLatency?: number;
        settle: number;
        json?: boolean;
        progress: boolean;
      }) => {
        for (const kind of opts.kinds ?? []) {
          if (!(DELTA_KINDS as readonly string[]).includes(kind)) {
            throw new CliError(`--kinds: unknown kind "${kind}"; kinds are ${DELTA_KINDS.join(', ')}`, 'usage');
          }
        }
        const options: SimulateOptions = {
          url: opts.url,
          events: opts.event ?? ['sim-1'],
          viewers: opts.viewers,
          rampMs: opts.ramp,
          durationMs: opts.duration,
          publishRate: opts.publishRate,
          reactionsRate: opts.reactionsRate,
          seed: opts.seed,
          settleMs: opts.settle,
          transport: opts.transport,
        };
        if (opts.publishes !== undefined) options.publishCount = opts.publishes;
        if (opts.token !== undefined && opts.token !== '') options.token = opts.token;
        if (opts.kinds !== undefined) options.kinds = opts.kinds;
        if (opts.timeout !== undefined) options.holdTimeoutSec = opts.timeout;
        if (opts.maxLatency !== undefined) options.maxLatencyMs = opts.maxLatency;
        const json = opts.json === true;
        result.exit = SIMULATE_EXITS[await actions.simulate({ options, json, progress: opts.progress && !json })];
      },
    );
  // commander's own help command answers `help sreve` with the program's help and status 0; a
  // command name given to help is checked like any other.
  program
    .command('help [command]')
    .description('show help for a command')
    .action((name?: string) => {
      if (name === undefined) return program.outputHelp();
      const command = program.commands.find((c) => c.name() === name && c.name() !== 'help');
      if (command) return command.outputHelp();
      const near = closest(name, program.commands.map((c) => c.name()));
      output.err(`error: unknown command '${name}'${near ? `\n(Did you mean ${near}?)` : ''}\n`);
      result.exit = 'usage';
    });
  return { program, result };
}

/**
 * Runs one command line; resolves to the exit status. `serve` resolves once listening and keeps
 * the process alive itself; everything else is done when this resolves.
 */
export async function runCli(argv: string[], actions: Actions, output: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { program, result } = buildProgram(actions, output, env);
  if (argv.length === 0) {
    // A bare `holdline` is a question, not an order to start a server.
    output.err(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT[result.exit];
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      if (err.code === 'commander.executeSubCommandAsync') return EXIT.usage;
      // commander has printed the message, the closest match and the pointer to --help.
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      output.err(`holdline: ${err.message}\n`);
      return EXIT[err.exit];
    }
    throw err;
  }
}

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; HOLDLINE_CHROMIUM points elsewhere (another install, or a test of this very check). */
export const CHROMIUM = process.env['HOLDLINE_CHROMIUM'] ?? '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  /** A new page that reports its script errors to the test's output. */
  page(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Starts Debian's Chromium headless with a fresh profile (through a forward proxy when asked). Without Chromium the suite is skipped
 * on a developer's machine, and fails in CI (CI=true): a green run must mean the browser ran.
 */
export async function launchBrowser(ctx: Mocha.Context, options: { proxy?: string } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    if (process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing: CI must install it (apt-get install -y chromium)`);
    console.warn(`    (skipped: ${CHROMIUM} is missing; apt-get install -y chromium)`);
    ctx.skip();
  }
  const profile = mkdtempSync(join(tmpdir(), 'holdline-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 900, height: 900 },
    // Every request through this forward proxy, loopback too (Chromium otherwise bypasses it there).
    ...(options.proxy ? { proxy: { server: options.proxy, bypass: '<-loopback>' } } : {}),
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    context,
    page: async () => {
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`    [page error] ${err.message}`));
      return page;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** An embedding page: one widget div per event, and the widget script from `server`. */
export function widgetHtml(server: string, divs: Array<Record<string, string>>): string {
  const attrs = (a: Record<string, string>) => Object.entries(a).map(([k, v]) => ` ${k}="${v.replace(/"/g, '&quot;')}"`).join('');
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>embed</title></head><body>
${divs.map((d) => `<div${attrs(d)}></div>`).join('\n')}
<script src="${server}/widget.js"></script></body></html>`;
}

/**
 * Opens `html` as if it were served at `url`: the browser never asks the network for it, so a
 * page can be "on" the holdline server's origin (same-origin) without the server knowing it.
 */
export async function openAt(page: Page, url: string, html: string): Promise<void> {
  await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
  await page.goto(url);
}

export interface PageServer {
  origin: string;
  /** The page served at /; set it once the holdline server's address is known. */
  html: string;
  close(): Promise<void>;
}

/** A plain HTTP server on another port (another origin) that serves one HTML page at /. */
export async function servePage(): Promise<PageServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(site.html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const site: PageServer = {
    origin: `http://127.0.0.1:${port}`,
    html: '',
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return site;
}

export interface Proxy {
  url: string;
  /** Connections refused (accepted and cut at once) while down. */
  refused: number;
  /** Cuts every open connection and every new one until up(). */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

/** A TCP proxy in front of a server: lets a test take "the server" away without losing its state. */
export async function startProxy(targetPort: number): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  let isDown = false;
  const proxy: Proxy = {
    url: '',
    refused: 0,
    down: () => {
      isDown = true;
      for (const s of sockets) s.destroy();
    },
    up: () => void (isDown = false),
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server = net.createServer((client) => {
    if (isDown) {
      proxy.refused += 1;
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return proxy;
}

/** Waits until the element's whole text is `text` (the page's own DOM, no polling loop of ours). */
export async function waitText(page: Page, selector: string, text: string, timeout = 5000): Promise<void> {
  const exact = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator(selector, { hasText: exact }).first().waitFor({ timeout });
}

/** Where browser tests put their screenshots: a folder a person can open (git ignores it). */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-artifacts/screenshots/', import.meta.url));

/**
 * The path of a screenshot named `name` in SCREENSHOTS; with HOLDLINE_SCREENSHOT=docs, `docs`
 * names the picture under docs/ that is refreshed from it (call publishToDocs after taking it).
 */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name);
}

/** Copies a screenshot over its picture in docs/ when HOLDLINE_SCREENSHOT=docs (README and docs pictures). */
export function publishToDocs(shot: string, docsName: string): void {
  if (process.env['HOLDLINE_SCREENSHOT'] !== 'docs') return;
  copyFileSync(shot, fileURLToPath(new URL(`../../docs/${docsName}`, import.meta.url)));
}

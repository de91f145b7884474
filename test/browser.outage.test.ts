import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { HoldlineClient } from '../tools/client.js';
import { launchBrowser, openAt, startProxy, waitText, widgetHtml, type Browser, type Proxy } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

/** Every data-seq shown in the widget's notice feed and chat: a delta drawn twice shows up twice. */
async function shownSeqs(page: Page): Promise<string[]> {
  return page.locator('#w [data-seq]').evaluateAll((els) => els.map((e) => e.getAttribute('data-seq') ?? ''));
}

async function goal(publisher: HoldlineClient, eventId: string, home: number, player: string): Promise<void> {
  await publisher.publish.score(eventId, { op: 'patch', type: 'goal', data: { home: { goals: home }, events: Array.from({ length: home }, (_, i) => ({ minute: i + 1, type: 'goal', player: i === home - 1 ? player : `g${i + 1}` })) } });
  await publisher.publish.notice(eventId, { type: 'goal', title: `GOAL ${home}: ${player}` });
}

describe('the widget when the server goes away', function () {
  this.timeout(90_000);
  let browser: Browser;

  before(async function () {
    browser = await launchBrowser(this);
  });
  after(() => browser?.close());

  it('resets and carries on when the in-memory server restarts on the same port', async () => {
    let server: TestServer = await startTestServer();
    const port = server.service.port;
    try {
      let publisher = new HoldlineClient({ baseUrl: server.url, token: server.adminToken });
      await publisher.putEvent('rs', { title: 'Before', sport: 'football', state: 'live' });
      await publisher.publish.score('rs', { op: 'set', data: { home: { name: 'Rovers', goals: 0 }, away: { name: 'United', goals: 0 } } });
      await goal(publisher, 'rs', 1, 'Silva');
      const page = await browser.page();
      await openAt(page, `${server.url}/test/rs.html`, widgetHtml(server.url, [{ id: 'w', 'data-holdline-event': 'rs' }]));
      await waitText(page, '#w .hlw-big', '1 \u2013 0', 10_000);

      await server.close();
      server = await startTestServer({ PORT: String(port) });
      publisher = new HoldlineClient({ baseUrl: server.url, token: server.adminToken });
      await publisher.putEvent('rs', { title: 'After the restart', sport: 'football', state: 'live' });
      await publisher.publish.score('rs', { op: 'set', data: { home: { name: 'Rovers', goals: 0 }, away: { name: 'United', goals: 0 } } });

      // A new epoch: the client is answered with reset and a fresh snapshot, and draws it.
      await page.waitForSelector('#w .hlw[data-hlw-resets="1"]', { timeout: 20_000 });
      await waitText(page, '#w .hlw-big', '0 \u2013 0', 5000);
      expect(await page.textContent('#w .hlw-title')).to.contain('After the restart');
      await goal(publisher, 'rs', 1, 'Novak');
      await waitText(page, '#w .hlw-big', '1 \u2013 0', 5000);
      await page.locator('#w .hlw-feed li', { hasText: 'GOAL 1: Novak' }).waitFor({ timeout: 5000 });
      expect(await page.locator('#w .hlw-feed li').allTextContents()).to.deep.equal(['GOAL 1: Novak']);
      await page.close();
    } finally {
      await server.close();
    }
  });

  it('backs off while the server is unreachable and catches up once, without duplicates, when it returns', async () => {
    const server = await startTestServer();
    let proxy: Proxy | null = null;
    try {
      proxy = await startProxy(server.service.port);
      const publisher = new HoldlineClient({ baseUrl: server.url, token: server.adminToken });
      await publisher.putEvent('out', { title: 'Outage', sport: 'football', state: 'live' });
      await publisher.publish.score('out', { op: 'set', data: { home: { name: 'Rovers', goals: 0 }, away: { name: 'United', goals: 0 } } });
      const page = await browser.page();
      // The page and the widget reach the server only through the proxy.
      await openAt(page, `${proxy.url}/test/out.html`, widgetHtml(proxy.url, [{ id: 'w', 'data-holdline-event': 'out' }]));
      await waitText(page, '#w .hlw-big', '0 \u2013 0', 10_000);
      await goal(publisher, 'out', 1, 'Silva');
      await waitText(page, '#w .hlw-big', '1 \u2013 0', 10_000);

      proxy.down();
      await page.waitForSelector('#w .hlw[data-hlw-state=backoff]', { timeout: 10_000 });
      // The event goes on while this viewer cannot reach it.
      await goal(publisher, 'out', 2, 'Mensah');
      await goal(publisher, 'out', 3, 'Novak');
      await page.waitForTimeout(4000);
      // Backoff, not a tight loop: 0.5-1 s, then 1-2 s, then 2-4 s between tries (a loop
      // without backoff would make hundreds of tries in these 4 s).
      expect(proxy.refused).to.be.within(1, 8);

      proxy.up();
      await waitText(page, '#w .hlw-big', '3 \u2013 0', 20_000);
      await page.locator('#w .hlw-feed li', { hasText: 'GOAL 3: Novak' }).waitFor({ timeout: 5000 });
      expect(await page.locator('#w .hlw-feed li').allTextContents()).to.deep.equal(['GOAL 3: Novak', 'GOAL 2: Mensah', 'GOAL 1: Silva']);
      const seqs = await shownSeqs(page);
      expect(new Set(seqs).size).to.equal(seqs.length);
      expect(await page.locator('#w .hlw-timeline li').count()).to.equal(3);
      // Same epoch: the client caught up from its cursor, it did not need a reset.
      expect(await page.getAttribute('#w .hlw', 'data-hlw-resets')).to.equal(null);
      await page.close();
    } finally {
      await proxy?.close();
      await server.close();
    }
  });
});

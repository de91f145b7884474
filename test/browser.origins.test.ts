import { expect } from 'chai';
import { HoldlineClient } from '../tools/client.js';
import { launchBrowser, servePage, waitText, widgetHtml, type Browser, type PageServer } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

const THUMBS = '\uD83D\uDC4D';

/**
 * A third-party page on another origin (another port) embeds the widget. With the page's
 * origin in CORS_ORIGINS the client polls over XHR; without it, XHR fails the way browsers
 * make CORS fail (status 0) and the client switches to JSONP by itself.
 */
for (const cors of [true, false]) {
  describe(`the widget embedded on another origin, CORS ${cors ? 'allowed (XHR)' : 'off (JSONP)'}`, function () {
    this.timeout(60_000);
    let browser: Browser;
    let server: TestServer;
    let site: PageServer;
    let publisher: HoldlineClient;
    const eventId = cors ? 'x-cors' : 'x-jsonp';

    before(async function () {
      browser = await launchBrowser(this);
      site = await servePage();
      server = await startTestServer({ REACTION_WINDOW_MS: '200', ...(cors ? { CORS_ORIGINS: site.origin } : {}) });
      publisher = new HoldlineClient({ baseUrl: server.url, token: server.adminToken });
      const token = await server.token({ sub: 'fan', name: 'Fan' });
      site.html = widgetHtml(server.url, [{ id: 'w', 'data-holdline-event': eventId, 'data-holdline-token': token }]);
      await publisher.putEvent(eventId, { title: 'Embedded', sport: 'football', state: 'live' });
      await publisher.publish.score(eventId, { op: 'set', data: { home: { name: 'Rovers', goals: 0 }, away: { name: 'United', goals: 0 } } });
    });
    after(async () => {
      await browser?.close();
      await site?.close();
      await server?.close();
    });

    it(`follows the event over ${cors ? 'XHR' : 'JSONP'} and shows a goal`, async () => {
      const page = await browser.page();
      await page.goto(`${site.origin}/`);
      await page.waitForSelector('#w .hlw[data-hlw-state=live]', { timeout: 10_000 });
      expect(await page.getAttribute('#w .hlw', 'data-hlw-transport')).to.equal(cors ? 'xhr' : 'jsonp');
      await waitText(page, '#w .hlw-big', '0 \u2013 0');
      await publisher.publish.score(eventId, { op: 'patch', type: 'goal', data: { home: { goals: 1 } } });
      await waitText(page, '#w .hlw-big', '1 \u2013 0', 5000);
      await page.close();
    });

    it('sends reactions and chat from the embedding page', async () => {
      const page = await browser.page();
      await page.goto(`${site.origin}/`);
      await page.waitForSelector('#w .hlw[data-hlw-state=live]', { timeout: 10_000 });
      await page.click(`#w button[data-emoji="${THUMBS}"]`);
      await waitText(page, `#w button[data-emoji="${THUMBS}"] .hlw-count`, '1', 10_000);
      await page.fill('#w .hlw-send input', cors ? 'hello over CORS' : 'hello without CORS');
      await page.click('#w .hlw-send button');
      await page.waitForSelector(`#w .hlw-messages li >> text=${cors ? 'hello over CORS' : 'hello without CORS'}`, { timeout: 10_000 });
      await page.close();
    });
  });
}

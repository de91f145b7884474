import { expect } from 'chai';
import { HoldlineClient } from '../tools/client.js';
import { launchBrowser, type Browser } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

/** The demo pages under the page Content-Security-Policy: everything they need still runs. */
describe('the demo pages in Chromium, under their Content-Security-Policy', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: TestServer;

  before(async function () {
    browser = await launchBrowser(this);
    server = await startTestServer({}, { demoEvents: ['demo-football', 'demo-cricket', 'demo-chess', 'demo-workout'] });
    const publisher = new HoldlineClient({ baseUrl: server.url, token: server.adminToken });
    for (const [page, sport] of [['football', 'football'], ['cricket', 'cricket'], ['chess', 'chess'], ['workout', 'workout']]) {
      await publisher.putEvent(`demo-${page}`, { title: page, sport, state: 'live' });
    }
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const name of ['football', 'cricket', 'chess', 'workout']) {
    it(`runs ${name}.html with no CSP violation`, async () => {
      const page = await browser.page();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      const res = await page.goto(`${server.url}/demo/${name}.html`);
      expect(res?.headers()['content-security-policy']).to.match(/^default-src 'self'/);
      await page.waitForSelector(`[data-holdline-event="demo-${name}"] .hlw[data-hlw-state=live]`);
      expect(violations).to.deep.equal([]);
      await page.close();
    });
  }

  it('runs the dashboard (/admin/) with no CSP violation, charts and all', async () => {
    const page = await browser.page();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const res = await page.goto(`${server.url}/admin/#token=${server.adminToken}`);
    expect(res?.headers()['content-security-policy']).to.match(/^default-src 'self'/);
    await page.locator('#c-live canvas').waitFor({ timeout: 10_000 });
    expect(violations).to.deep.equal([]);
    await page.close();
  });
});

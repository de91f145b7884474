import { expect } from 'chai';
import { startService, type Service } from '../bin/holdline.js';
import { DEMO_EVENTS, demosReady, playDemos } from '../demo/demo.js';
import { loadConfig } from '../lib/config.js';
import { HoldlineClient } from '../tools/client.js';
import { launchBrowser, publishToDocs, screenshotPath, type Browser } from './support/browser.js';
import { TEST_SECRET } from './support/server.js';

/**
 * The live dashboard at /admin/ in Chromium, on a server playing the demo: the admin data is
 * refused without the admin scope, the charts are drawn, and a publish shows within 3 s (it
 * travels as a tick of the holdline-ops event, followed by the browser client).
 */
describe('the live dashboard in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let service: Service;
  let adminToken: string;
  const demo = new AbortController();

  before(async function () {
    browser = await launchBrowser(this);
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' });
    service = await startService(config, { demo: { events: DEMO_EVENTS }, processMetrics: false });
    adminToken = await service.auth.mint({ sub: 'dash-admin', scope: 'publish admin' });
    const coach = await service.auth.mint({ sub: 'coach-hale', name: 'Coach Hale' });
    playDemos(service.url, adminToken, demo.signal, () => undefined, coach, (sub, name) => service.auth.mint({ sub, name, events: [...DEMO_EVENTS] }));
    await demosReady(service.url, demo.signal);
  });
  after(async () => {
    demo.abort();
    await browser?.close();
    await service?.close();
  });

  it('refuses its data without an admin token', async () => {
    expect((await fetch(`${service.url}/admin/summary`)).status).to.equal(401);
    const viewer = await service.auth.mint({ sub: 'v1' });
    const refused = await fetch(`${service.url}/admin/summary`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(refused.status).to.equal(403);
    const ok = await fetch(`${service.url}/admin/summary`, { headers: { authorization: `Bearer ${adminToken}` } });
    const body = (await ok.json()) as { events: Array<{ id: string; minutes: unknown[] }>; servers: Record<string, { deltas: Record<string, number> }> };
    expect(body.events.map((e) => e.id)).to.include.members([...DEMO_EVENTS]);
    expect(body.events[0]!.minutes).to.have.length(60);
    expect(Object.values(body.servers)[0]!.deltas['score']).to.be.above(0);
  });

  it('asks for a token, and says so when one is refused', async () => {
    const page = await browser.page();
    await page.goto(`${service.url}/admin/`);
    await page.locator('#login').waitFor();
    await page.fill('#token', 'not-a-token');
    await page.click('#login button');
    await page.locator('#login-error', { hasText: '401' }).waitFor({ timeout: 5000 });
    await page.close();
  });

  it('draws its charts and shows a publish within 3 s', async () => {
    const page = await browser.page();
    await page.setViewportSize({ width: 1280, height: 1000 });
    await page.goto(`${service.url}/admin/#token=${adminToken}`);
    for (const id of ['c-viewers', 'c-reactions', 'c-chat', 'c-live']) await page.locator(`#${id} canvas`).waitFor({ timeout: 10_000 });
    expect(await page.evaluate('location.hash'), 'the token leaves the address bar').to.equal('');
    // Live: the ticks arrive over the ops event.
    await page.locator('#t-deltas', { hasText: /^\d/ }).waitFor({ timeout: 10_000 });
    const publisher = new HoldlineClient({ baseUrl: service.url, token: adminToken });
    const published = Date.now();
    await publisher.putEvent('dash-final', { title: 'Cup final', sport: 'football', state: 'live' });
    await publisher.publish.score('dash-final', { op: 'set', data: { home: 1, away: 0 } });
    await page.locator('tr[data-event="dash-final"]').waitFor({ timeout: 3000 });
    console.log(`      (publish on the dashboard ${Date.now() - published} ms later)`);
    // Some engagement for the picture: fans of the final react and chat.
    for (const [i, emoji] of ['\u{1F525}', '\u{1F525}', '\u{1F389}', '\u{1F44D}', '\u{1F525}', '\u{1F389}'].entries()) {
      const fan = new HoldlineClient({ baseUrl: service.url, token: await service.auth.mint({ sub: `dash-fan-${i}`, name: `Fan ${i}` }) });
      await fan.poll('dash-final', null);
      await fan.react('dash-final', emoji);
      if (i % 2 === 0) await fan.chat('dash-final', `What a final ${i}`);
    }
    await page.locator('tr[data-event="dash-final"] .emoji').first().waitFor({ timeout: 5000 });
    await page.waitForTimeout(1500);
    const shot = screenshotPath('dashboard-desktop.png');
    await page.screenshot({ path: shot, fullPage: true });
    publishToDocs(shot, 'dashboard.png');
    await page.setViewportSize({ width: 360, height: 780 });
    await page.waitForTimeout(300);
    const wide = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    expect(wide, 'the dashboard at 360 px').to.be.at.most(360);
    await page.screenshot({ path: screenshotPath('dashboard-phone.png'), fullPage: true });
    await page.close();
  });
});

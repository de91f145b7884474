import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { startService, type Service } from '../bin/holdline.js';
import { DEMO_EVENTS, demosReady, playDemos } from '../demo/demo.js';
import { loadConfig } from '../lib/config.js';
import { HoldlineClient } from '../tools/client.js';
import { launchBrowser, publishToDocs, screenshotPath, type Browser } from './support/browser.js';
import { TEST_SECRET } from './support/server.js';

const PAGES = ['index', 'football', 'cricket', 'chess', 'workout'] as const;
const WIDTHS = { phone: 360, desktop: 1280 } as const;

interface Box { x: number; y: number; width: number; height: number }
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * The demo as `serve --demo` runs it (the publishers, the scripted fans, guest tokens), in
 * Chromium at a phone's width and a desktop's: nothing wider than the screen, toasts that leave
 * the score readable, chat that posts as the guest, icons drawn without an emoji font.
 * Screenshots go to test-artifacts/screenshots/.
 */
describe('the demo pages in Chromium, at phone and desktop widths', function () {
  this.timeout(120_000);
  let browser: Browser;
  let service: Service;
  let admin: HoldlineClient;
  const demo = new AbortController();

  before(async function () {
    browser = await launchBrowser(this);
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' });
    service = await startService(config, { demo: { events: DEMO_EVENTS }, processMetrics: false });
    const token = await service.auth.mint({ sub: 'demo-admin', scope: 'publish admin' });
    admin = new HoldlineClient({ baseUrl: service.url, token });
    const coach = await service.auth.mint({ sub: 'coach-hale', name: 'Coach Hale' });
    playDemos(service.url, token, demo.signal, () => undefined, coach, (sub, name) => service.auth.mint({ sub, name, events: [...DEMO_EVENTS] }));
    await demosReady(service.url, demo.signal);
  });
  after(async () => {
    demo.abort();
    await browser?.close();
    await service?.close();
  });

  async function open(name: string, width: number): Promise<Page> {
    const page = await browser.page();
    await page.setViewportSize({ width, height: width < 600 ? 780 : 900 });
    await page.goto(`${service.url}/demo/${name === 'index' ? '' : `${name}.html`}`);
    await page.waitForSelector('.hlw[data-hlw-state=live] .hlw-big, .hlw[data-hlw-state=live] .hlw-board', { timeout: 15_000 });
    return page;
  }

  for (const [label, width] of Object.entries(WIDTHS)) {
    for (const name of PAGES) {
      it(`${name} fits a ${width} px screen (${label}), icons drawn`, async () => {
        const page = await open(name, width);
        const wide = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })')) as { scroll: number; inner: number };
        expect(wide.scroll, `${name} at ${width} px is ${wide.scroll} px wide`).to.be.at.most(wide.inner);
        // Every reaction button shows a drawn icon (SVG where no colour-emoji font exists, as on CI).
        const icons = await page.$$eval('.hlw-reactions button', (buttons) =>
          buttons.map((b) => {
            const i = b.querySelector('svg.hlw-icon, .hlw-emoji');
            return i ? i.getBoundingClientRect().width : 0;
          }),
        );
        expect(icons.length).to.be.at.least(5);
        for (const w of icons) expect(w).to.be.above(8);
        await page.screenshot({ path: screenshotPath(`demo-${name}-${label}.png`), fullPage: true });
        await page.close();
      });
    }
  }

  it('shows a notice as a toast that covers none of the title, live dot, viewer count, teams or score', async () => {
    const page = await open('football', WIDTHS.phone);
    // The count arrives with the first answer that counts viewers; it must be there to be covered.
    await page.locator('.hlw .hlw-viewer-count').waitFor({ timeout: 10_000 });
    await admin.publish.notice('demo-football', { type: 'goal', title: 'GOAL! Riverside Rovers 2-1', body: "71' Novak, tap-in after a rebound", level: 'important' });
    const toast = page.locator('.hlw-toast', { hasText: 'GOAL! Riverside Rovers 2-1' });
    await toast.waitFor({ timeout: 5000 });
    const box = (await toast.boundingBox())!;
    for (const selector of ['.hlw-title', '.hlw-dot', '.hlw-viewers', '.hlw-teams', '.hlw-big']) {
      const covered = await page.locator(`.hlw ${selector}`).first().boundingBox();
      expect(covered, `${selector} is on screen`).to.not.equal(null);
      expect(overlaps(box, covered!), `the toast covers ${selector}`).to.equal(false);
    }
    await page.screenshot({ path: screenshotPath('demo-football-toast-phone.png') });
    await page.close();
  });

  it('posts chat from the page as the guest, and shows it', async () => {
    const page = await open('football', WIDTHS.desktop);
    const input = page.locator('.hlw-send input');
    await input.waitFor({ timeout: 10_000 });
    const guest = (await page.locator('[data-demo-viewer]').textContent({ timeout: 5000 }))!;
    expect(guest).to.match(/^Guest \d{4}$/);
    await input.fill('Hello from the browser test');
    await page.locator('.hlw-send button').click();
    const line = page.locator('.hlw-messages li', { hasText: 'Hello from the browser test' });
    await line.waitFor({ timeout: 5000 });
    expect(await line.locator('b').textContent()).to.equal(guest);
    const shot = screenshotPath('demo-football-chat-desktop.png');
    await page.locator('.live .hlw').screenshot({ path: shot });
    publishToDocs(shot, 'widget.png');
    await page.close();
  });

  it('has scripted fans who chat different lines and react', async () => {
    // The fans follow the event (so they count as viewers) and speak when something happens.
    await admin.publish.score('demo-cricket', { op: 'patch', type: 'wicket', data: { wickets: 1 } });
    await admin.publish.score('demo-cricket', { op: 'patch', type: 'boundary', data: { commentary: 'into the stands' } });
    let chat: Array<{ user: { id: string }; text: string }> = [];
    // Whether a fan speaks at a moment is random (demo/fans.ts onMoment), so another moment comes
    // every 2 s until two lines are in, within a bound: the test waits for behaviour, not luck.
    for (let i = 0; i < 120 && chat.filter((m) => m.user.id.startsWith('fan-')).length < 2; i++) {
      if (i > 0 && i % 8 === 0) await admin.publish.score('demo-cricket', { op: 'patch', type: 'boundary', data: { commentary: `four number ${i / 8}` } });
      await new Promise((r) => setTimeout(r, 250));
      chat = ((await admin.getEvent('demo-cricket')).snapshot as unknown as { chat: typeof chat }).chat;
    }
    const fans = chat.filter((m) => m.user.id.startsWith('fan-'));
    expect(fans.length, 'fan chat lines').to.be.at.least(2);
    // The crowd never repeats a line while it is among its last eight (demo/fans.ts LinePicker).
    const lines = fans.map((m) => m.text);
    for (let i = 1; i < lines.length; i++) expect(lines.slice(Math.max(0, i - 8), i), `fan line ${i}`).not.to.include(lines[i]);
    expect((await admin.getEvent('demo-cricket')).viewers).to.be.at.least(4);
  });

  it('writes published chess moves as text, never as markup', async () => {
    const page = await open('chess', WIDTHS.desktop);
    await admin.publish.score('demo-chess', { op: 'patch', data: { moves: ['e4', '<img src=x onerror="window.pwned=1">'] } });
    await page.locator('#moves li', { hasText: '<img src=x' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#moves img').count()).to.equal(0);
    expect(await page.evaluate('window.pwned')).to.equal(undefined);
    await page.close();
  });

  it('serves a favicon', async () => {
    for (const [path, type] of [['/favicon.ico', 'image/x-icon'], ['/favicon.svg', 'image/svg+xml']] as const) {
      const res = await fetch(`${service.url}${path}`);
      expect(res.status, path).to.equal(200);
      expect(res.headers.get('content-type')).to.equal(type);
      expect((await res.arrayBuffer()).byteLength).to.be.above(100);
    }
  });
});

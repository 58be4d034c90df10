import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { launchChromium } from './chromium';

/** Screenshots of each page, taken by the browser suites so docs/console.md stays current. */
export const SCREENSHOTS = join(__dirname, '../../docs/console');

export interface ConsoleBrowser {
  /** A new page at 1280×800 (or `width`×`height`), recording CSP violations and page errors. */
  open(opts?: { width?: number; height?: number }): Promise<ConsolePage>;
  close(): Promise<void>;
}

export interface ConsolePage {
  page: Page;
  /** Console errors and CSP violations the page reported; a test expects none. */
  problems: string[];
  /** Opens the console at `#/<hash>` and pastes `key` into the prompt. */
  signIn(key: string, hash?: string): Promise<void>;
  /** Goes to a page of the console by its nav link (the way a user does). */
  goTo(title: string): Promise<void>;
  /** No serious or critical axe-core violation on the page as it is now. */
  expectAccessible(): Promise<void>;
  /** The page is no wider than the viewport (tables scroll inside their own box), naming what sticks out. */
  expectFitsWidth(): Promise<void>;
  /** docs/console/<name>.png */
  screenshot(name: string): Promise<void>;
}

/** Chromium against the console served by `apiUrl` (the test app's address). */
export async function consoleBrowser(apiUrl: string): Promise<ConsoleBrowser> {
  const browser = await launchChromium();
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: apiUrl });
  return {
    async open({ width = 1280, height = 800 } = {}) {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width, height });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && !/the server responded with a status of (4\d\d)/.test(m.text())) problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      const cp: ConsolePage = {
        page,
        problems,
        async signIn(key, hash = '') {
          await page.goto(`${apiUrl}/console/${hash ? `#/${hash}` : ''}`);
          await page.getByLabel('API key').fill(key);
          await page.getByRole('button', { name: 'Open the console' }).click();
          await page.getByRole('navigation', { name: 'Pages' }).waitFor();
        },
        async goTo(title) {
          await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: title, exact: true }).click();
          await page.getByRole('heading', { level: 1, name: title }).waitFor();
        },
        async expectAccessible() {
          const result = await new AxeBuilder({ page }).analyze();
          const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
          if (bad.length > 0) {
            throw new Error(
              `axe-core: ${bad.length} serious or critical violation(s) on ${page.url()}:\n` +
                bad.map((v) => `- ${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n  ')}`).join('\n'),
            );
          }
        },
        async expectFitsWidth() {
          const viewport = page.viewportSize()!.width;
          const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
          if (width > viewport) {
            const wide = await page.evaluate(
              `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > ${viewport + 2}).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 20).join('\\n')`,
            );
            throw new Error(`${page.url()} is ${width} px wide in a ${viewport} px viewport; what sticks out:\n${wide}`);
          }
        },
        async screenshot(name) {
          mkdirSync(SCREENSHOTS, { recursive: true });
          await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
        },
      };
      return cp;
    },
    close: () => browser.close(),
  };
}

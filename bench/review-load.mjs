// bench/review-load.mjs URL: two loads of the review page in Debian's
// chromium (headless, playwright-core of tests/browser/), each timed from
// navigation until the grid is drawn and every thumbnail in the first
// screen has loaded. The second load is a new page of the same browser:
// the thumbnails are cached objects on the server and immutable in the
// browser's cache. Prints "load N: MS ms, K thumbnails, ..." (and the
// page's own drawing time, body[data-render-ms]). Run by
// bench/review.sh.
import { chromium } from "../tests/browser/node_modules/playwright-core/index.mjs";

const [url] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });

// the first screen: drawn, and each thumbnail in view loaded
const ready = () => {
  if (!document.body.dataset.version) return 0;
  const inView = Array.from(document.querySelectorAll(".tile img")).filter((i) => {
    const r = i.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight;
  });
  return inView.length > 0 && inView.every((i) => i.complete && i.naturalWidth > 0) ? inView.length : 0;
};

for (const n of [1, 2]) {
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(url);
  let shown = 0;
  while (!(shown = await page.evaluate(ready))) await new Promise((r) => setTimeout(r, 10));
  const ms = Date.now() - t0;
  const render = await page.evaluate(() => document.body.dataset.renderMs);
  console.log(`load ${n}: ${ms} ms, ${shown} thumbnails, the page's render ${render} ms`);
  await page.close();
}
await browser.close();

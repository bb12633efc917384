// The static review page (loramake review --html DIR) in chromium: every
// image of the grid and of the candidate groups loads from the folder,
// and a decision key only says the page is read-only.
//
//   node static.mjs DIR/index.html
import { chromium } from "playwright-core";

const [file] = process.argv.slice(2);
const log = (...a) => console.log("browser:", ...a);
function fail(msg) {
  console.error("browser: FAILED: " + msg);
  process.exit(1);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
page.setDefaultTimeout(30000);
// until(fn, arg): evaluate fn in the page every 50 ms until it is true
// (30 s at most). Not page.waitForFunction: that compiles its function in
// the page, which the page's Content-Security-Policy forbids (no eval).
async function until(fn, arg) {
  for (const end = Date.now() + 30000; Date.now() < end;) {
    if (await page.evaluate(fn, arg)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out waiting for: " + String(fn));
}
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
const allLoaded = () => until(() => {
  const v = Array.from(document.querySelectorAll("#view img"));
  return v.length > 0 && v.every((i) => i.complete && i.naturalWidth > 0);
});

try {
  await page.goto("file://" + file);
  await page.waitForSelector("body[data-version]");
  const mode = await page.textContent("#mode");
  if (!/read-only/.test(mode)) fail("the static page does not say it is read-only: " + mode);
  // lazy images load as they scroll into view: take them eagerly here
  await page.$$eval("img", (v) => v.forEach((i) => { i.loading = "eager"; }));
  await allLoaded();
  const tiles = await page.$$eval(".tile img", (v) => v.length);
  await page.keyboard.press("c");
  await page.$$eval("img", (v) => v.forEach((i) => { i.loading = "eager"; }));
  await allLoaded();
  const cands = await page.$$eval(".cand img", (v) => v.length);
  if (tiles !== 20 || cands !== 80) fail(`the static page shows ${tiles} tiles and ${cands} candidates`);
  await page.keyboard.press("1");
  await until(() => /read-only|static page/.test(document.getElementById("msg").textContent));
  if (errors.length) fail("the page logged errors: " + errors.join("; "));
  log(`${tiles} tiles, ${cands} candidates, read-only`);
  log("done");
} catch (e) {
  fail(e.stack || String(e));
} finally {
  await browser.close();
}

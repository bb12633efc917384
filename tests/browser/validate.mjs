// The review page of a recipe that trains and validates, in chromium: the
// grid is drawn and, below it, the validation images the trained LoRA
// made, each tile's image loaded and labelled with its prompt.
//
//   node validate.mjs URL N      N: how many validation images to expect
import { chromium } from "playwright-core";

const [url, want] = process.argv.slice(2);
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
// until(fn): evaluate fn in the page every 50 ms until it is true (30 s at
// most; not waitForFunction, which the page's CSP forbids: no eval)
async function until(fn) {
  for (const end = Date.now() + 30000; Date.now() < end;) {
    if (await page.evaluate(fn)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out waiting for: " + String(fn));
}
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));

try {
  await page.goto(url);
  await page.waitForSelector("body[data-version]");
  await page.$$eval("img", (v) => v.forEach((i) => { i.loading = "eager"; }));
  await until(() => {
    const v = Array.from(document.querySelectorAll(".validation .tile img"));
    return v.length > 0 && v.every((i) => i.complete && i.naturalWidth > 0);
  });
  const tiles = await page.$$eval(".validation .tile", (v) => v.length);
  const labels = await page.$$eval(".validation .tile .label", (v) => v.map((l) => l.textContent));
  const heading = await page.$$eval("#view h2", (v) => v.map((h) => h.textContent).join(" | "));
  if (String(tiles) !== want) fail(`${tiles} validation tiles, not ${want}`);
  if (!/validation: \d+ images made with the trained LoRA/.test(heading)) fail("no validation heading: " + heading);
  if (errors.length) fail("the page logged errors: " + errors.join("; "));
  log(`${tiles} validation images: ${labels.join(", ")}`);
  log("done");
} catch (e) {
  fail(e.stack || String(e));
} finally {
  await browser.close();
}

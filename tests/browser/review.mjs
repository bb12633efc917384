// The review page in a real browser: Debian's chromium, headless, driven by
// playwright-core (tests/cli/t2810-review-browser.sh runs it).
//
//   node review.mjs URL RECIPE_DIR SHOTS_DIR
//
// URL is what `loramake review` printed; $LORAMAKE is the binary. With the
// keyboard: a candidate of each of the 8 anchors of fitmannequin is
// picked; then a build runs in another process and the page shows its
// images as they land, without a reload; three variations are kept, one
// of them dropped, one rerolled (its cost shown first), one kept and
// undone. The shell test then reads recipe.lock. Screenshots of the grid,
// a candidate group and the check panel go to SHOTS_DIR. Each step says
// what it waits for; nothing sleeps.
import { chromium } from "playwright-core";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const [url, recipeDir, shots] = process.argv.slice(2);
const loramake = process.env.LORAMAKE;
const log = (...a) => console.log("browser:", ...a);

function fail(msg) {
  console.error("browser: FAILED: " + msg);
  process.exit(1);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"], // the tests run as root in CI
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
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
page.on("response", (r) => { if (r.status() >= 400) errors.push(r.status() + " " + r.url().replace(/token=\w+/, "token=…")); });

const version = () => page.evaluate(() => Number(document.body.dataset.version || 0));
async function focused(sel) {
  return page.$eval(sel + ".focus", (e) => e.dataset.id);
}
// press key, then wait for the server's answer on the page: done(arg)
// true in the page (and no request still out)
async function decide(key, done, arg) {
  await page.keyboard.press(key);
  await until(done, arg);
}
const pickedIs = (k) => {
  const e = document.querySelector(".group.focus .cand.picked .num");
  return e && e.textContent === k;
};
const keptIs = ([id, kept]) => {
  const e = document.querySelector(`.tile[data-id="${id}"]`);
  return e && e.classList.contains("kept") === kept;
};

try {
  await page.goto(url);
  await page.waitForSelector("body[data-version]");
  log("page loaded, version", await version());

  // the 8 anchors: candidates view, a digit each, down to the next
  await page.keyboard.press("c");
  await page.waitForSelector(".group.focus");
  const picked = {};
  for (let i = 0; i < 8; i++) {
    const id = await focused(".group");
    const k = String((i % 9) + 1);
    await decide(k, pickedIs, k);
    picked[id] = Number(k);
    if (i < 7) {
      await page.keyboard.press("ArrowDown");
      await until((was) => document.querySelector(".group.focus").dataset.id !== was, id);
    }
  }
  if (Object.keys(picked).length !== 8 || !Object.keys(picked).every((id) => id.startsWith("anchor/")))
    fail("the 8 groups were not the 8 anchors: " + JSON.stringify(picked));
  log("picked", JSON.stringify(picked));
  await page.locator(".group.focus").screenshot({ path: `${shots}/review-candidates.png` });

  // a build in another process: the grid fills without a reload
  await page.keyboard.press("g");
  const before = await page.$$eval(".tile img", (v) => v.length);
  const b = spawnSync(loramake, ["--engine", "preview", recipeDir], { encoding: "utf8" });
  writeFileSync(`${shots}/build1.out`, b.stdout + b.stderr);
  if (b.status !== 0 && b.status !== 1) fail(`the build exited ${b.status}: ${b.stderr}`);
  await until(() => {
    const tiles = document.querySelectorAll(".tile");
    return tiles.length === 20 && document.querySelectorAll(".tile img").length === 20;
  });
  log(`the grid went from ${before} to 20 images without a reload`);
  await until(() => Array.from(document.querySelectorAll(".tile img")).every((i) => i.complete && i.naturalWidth > 0));

  // cull: keep three variations, drop one of them, reroll one, keep + undo
  const focusTile = async (id) => {
    await page.click(`.tile[data-id="${id}"]`);
    if ((await focused(".tile")) !== id) fail("cannot focus " + id);
  };
  for (const id of ["upscale/curl/1", "upscale/curl/2", "upscale/squat/1"]) {
    await focusTile(id);
    await decide("p", keptIs, [id, true]);
  }
  await focusTile("upscale/curl/2");
  await decide("x", keptIs, ["upscale/curl/2", false]);
  await focusTile("upscale/squat/2");
  await page.keyboard.press("r");
  const ask = await page.textContent("#confirm");
  if (!/reroll angle\/squat\/2 .*nodes run again, \$/.test(ask)) fail("the reroll did not show its cost first: " + ask);
  log("asked:", ask);
  await decide("r", () => /rerolled/.test(document.getElementById("msg").textContent));
  await focusTile("upscale/squat/3");
  await decide("p", keptIs, ["upscale/squat/3", true]);
  await decide("u", keptIs, ["upscale/squat/3", false]);
  const kept = await page.$$eval(".tile.kept", (v) => v.map((e) => e.dataset.id).sort());
  if (JSON.stringify(kept) !== JSON.stringify(["upscale/curl/1", "upscale/squat/1"]))
    fail("the page shows kept: " + JSON.stringify(kept));
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${shots}/review-grid.png` });

  // the loupe shows the image at its own size
  await focusTile("upscale/curl/1");
  await page.keyboard.press("Enter");
  await until(() => {
    const i = document.querySelector("#loupe img");
    return i && i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width === i.naturalWidth;
  });
  await page.keyboard.press("Escape");

  // keys listed; the check panel
  await page.keyboard.press("?");
  if (await page.isHidden("#help")) fail("? did not list the keys");
  await page.keyboard.press("Escape");
  await page.keyboard.press("k");
  await page.waitForSelector(".rule");
  await page.screenshot({ path: `${shots}/review-check.png`, fullPage: false });
  const rules = await page.$$eval(".rule h3", (v) => v.length);
  log("check panel:", rules, "rules");
  if (rules < 5) fail("the check panel shows " + rules + " rules");

  if (errors.length) fail("the page logged errors: " + errors.join("; "));
  log("done");
} catch (e) {
  await page.screenshot({ path: `${shots}/failure.png` }).catch(() => {});
  fail(e.stack || String(e));
} finally {
  await browser.close();
}

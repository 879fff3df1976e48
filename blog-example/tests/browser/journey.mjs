// Drives the blog in headless Chromium as visitors would, across three nodes:
//
//   node journey.mjs <node A URL> <node B URL> <node C URL> <unique text>
//
// With JavaScript: on A, create a draft with the form and publish it, while C's home page
// waits for it to appear live; open the post on C and on B; comment on B's page (over its
// WebSocket) and wait until C's page shows it live.
// Without JavaScript (a second context): on B, create a draft, publish it and comment, each
// a plain form post and redirect. Screenshots of every page at 1280 and 390 px go to
// $SCREENSHOT_DIR when set (keep them out of the repository); at 390 px no page may scroll
// sideways. Chromium is /usr/bin/chromium unless CHROMIUM_PATH says otherwise.
//
// Prints one JSON line on success:
//   {"postId", "postLive", "shownOnA", "shownOnC", "commentBoxCleared", "noJsPostId", "noJsComment",
//    "overflow": [...pages wider than 390 px...], "noFooter": [...pages without the served-by
//    footer, error pages included...], "consoleErrors": [...]}
// Exit codes: 0 done, 1 a step failed, 2 bad usage, 3 playwright-core is not installed.

const [urlA, urlB, urlC, text] = process.argv.slice(2);
if (!urlA || !urlB || !urlC || !text) {
  console.error('usage: node journey.mjs <node A URL> <node B URL> <node C URL> <unique text>');
  process.exit(2);
}

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error(`playwright-core is not installed (npm ci --prefix blog-example/tests/browser): ${e.message}`);
  process.exit(3);
}

const TIMEOUT_MS = 20_000;
const shots = process.env.SCREENSHOT_DIR;
const consoleErrors = [];
const overflow = [];
const noFooter = [];

function watch(page, name) {
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('pageerror', (error) => consoleErrors.push(`${name}: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${name}: ${msg.text()}`);
  });
  return page;
}

// A screenshot at 1280 and 390 px, and whether the page fits 390 px.
async function look(page, label) {
  const footer = await page.locator('#served-by').textContent({ timeout: 1000 }).catch(() => '');
  if (!/^served by node-\d \((primary|replica · primary node-\d)\)$/.test(footer)) noFooter.push(`${label}: ${JSON.stringify(footer)}`);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    if (shots) await page.screenshot({ path: `${shots}/${label}-${width}.png`, fullPage: true });
    if (width === 390) {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      if (wide > 390) overflow.push(`${label}: ${wide}px`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless=new', '--disable-dev-shm-usage'],
  timeout: TIMEOUT_MS,
});
try {
  const js = await browser.newContext();
  const a = watch(await js.newPage(), 'A');
  await a.goto(urlA + '/');
  await look(a, 'index');
  const slug = 'journey-' + text.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(-20);
  await a.fill('#new-post input[name="title"]', 'Journey ' + text);
  await a.fill('#new-post input[name="slug"]', slug);
  await a.fill('#new-post textarea[name="body"]', 'Written in Chromium.');
  await a.click('#new-post button[type="submit"]');
  await a.waitForURL(/\/posts\/\d+$/);
  const postId = Number(new URL(a.url()).pathname.split('/').pop());
  await a.locator('.draft', { hasText: 'Draft' }).waitFor();
  await look(a, 'draft');
  await a.goto(urlA + '/drafts');
  await a.locator('#posts a', { hasText: 'Journey ' + text }).waitFor();
  await look(a, 'drafts');
  // C's home page, open before the post is published, shows it live once it is.
  const home = watch(await js.newPage(), 'C-home');
  await home.goto(urlC + '/');
  await a.goto(`${urlA}/posts/${postId}`);
  await a.click('#publish button[type="submit"]');
  await home.locator('#posts a', { hasText: 'Journey ' + text }).waitFor();
  const postLive = true;
  await a.locator('article small', { hasText: 'published' }).waitFor();
  await a.locator('#status', { hasText: 'Live.' }).waitFor();

  const c = watch(await js.newPage(), 'C');
  await c.goto(`${urlC}/posts/${postId}`);
  await c.locator('#status', { hasText: 'Live.' }).waitFor();
  const b = watch(await js.newPage(), 'B');
  await b.goto(`${urlB}/posts/${postId}`);
  await b.locator('#status', { hasText: 'Live.' }).waitFor();
  await b.fill('#new-comment input[name="author"]', 'chromium');
  await b.fill('#new-comment textarea[name="body"]', text);
  await b.click('#new-comment button[type="submit"]');
  await c.locator('#comments li .body', { hasText: text }).waitFor();
  await a.locator('#comments li .body', { hasText: text }).waitFor();
  await b.locator('#comments li .body', { hasText: text }).waitFor();
  const commentBoxCleared = (await b.inputValue('#new-comment textarea[name="body"]')) === '';
  const shownOnC = await c.locator('#comments li .body').allTextContents();
  const shownOnA = await a.locator('#comments li .body').allTextContents();
  const when = await c.locator('#comments li small').last().textContent();
  if (!/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$/.test(when)) throw new Error(`not a human timestamp: ${when}`);
  await look(c, 'post');

  const plain = await browser.newContext({ javaScriptEnabled: false });
  const n = watch(await plain.newPage(), 'no-JS');
  await n.goto(urlB + '/');
  await n.fill('#new-post input[name="title"]', 'Plain ' + text);
  await n.fill('#new-post input[name="slug"]', 'plain-' + slug);
  await n.fill('#new-post textarea[name="body"]', 'No script.');
  await n.click('#new-post button[type="submit"]');
  await n.waitForURL(/\/posts\/\d+$/);
  const noJsPostId = Number(new URL(n.url()).pathname.split('/').pop());
  await n.click('#publish button[type="submit"]');
  await n.locator('article small', { hasText: 'published' }).waitFor();
  await n.fill('#new-comment input[name="author"]', 'plain');
  await n.fill('#new-comment textarea[name="body"]', 'plain ' + text);
  await n.click('#new-comment button[type="submit"]');
  await n.waitForURL(/#comment-\d+$/);
  const noJsComment = (await n.locator('#comments li .body').allTextContents()).includes('plain ' + text);
  await look(n, 'post-no-js');
  // Error pages carry the footer too (a page of their own: Chromium reports every 4xx as a
  // console error, which the watched pages must not have).
  const e = await plain.newPage();
  e.setDefaultTimeout(TIMEOUT_MS);
  await e.goto(urlB + '/posts/999999999');
  await look(e, 'not-found');
  await e.goto(`${urlB}/posts/${noJsPostId}/ws`);
  await look(e, 'bad-request');

  console.log(JSON.stringify({ postId, postLive, shownOnA, shownOnC, commentBoxCleared, noJsPostId, noJsComment, overflow, noFooter, consoleErrors }));
} catch (e) {
  console.error(`browser test failed: ${e.message}`);
  console.error(`console errors so far: ${JSON.stringify(consoleErrors)}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}

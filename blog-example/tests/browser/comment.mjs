// Adds a comment through a post page in headless Chromium, as a visitor would, and waits
// until the page shows it.
//
//   node comment.mjs <post page URL> <comment text> <author>
//
// Chromium is /usr/bin/chromium unless CHROMIUM_PATH says otherwise. Prints one JSON line
// on success: {"shown": [...comment bodies on the page...], "sentOverWebSocket": true,
// "httpWrites": [...]}. Exit codes: 0 the comment appeared, 1 it did not (or the page
// failed), 2 bad usage, 3 playwright-core is not installed (run `npm ci` here).

const [url, text, author] = process.argv.slice(2);
if (!url || !text || !author) {
  console.error('usage: node comment.mjs <post page URL> <comment text> <author>');
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
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless=new', '--disable-dev-shm-usage'],
  timeout: TIMEOUT_MS,
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);

  // Evidence of the path the comment took: frames sent over WebSocket, and any
  // non-GET HTTP request (there should be none).
  let sentOverWebSocket = false;
  page.on('websocket', (socket) => {
    socket.on('framesent', (frame) => {
      if (typeof frame.payload === 'string' && frame.payload.includes(text)) {
        sentOverWebSocket = true;
      }
    });
  });
  const httpWrites = [];
  page.on('request', (request) => {
    if (request.method() !== 'GET') httpWrites.push(`${request.method()} ${request.url()}`);
  });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  const response = await page.goto(url);
  if (!response || response.status() !== 200) {
    throw new Error(`GET ${url} answered ${response ? response.status() : 'nothing'}`);
  }
  // The form sends over the socket, so wait until the page says it is connected.
  await page.locator('#status', { hasText: 'Live.' }).waitFor();

  await page.fill('#new-comment input[name="author"]', author);
  await page.fill('#new-comment textarea[name="body"]', text);
  await page.click('#new-comment button[type="submit"]');

  await page.locator('#comments li .body', { hasText: text }).waitFor();
  const shown = await page.locator('#comments li .body').allTextContents();
  if (pageErrors.length > 0) throw new Error(`errors on the page: ${pageErrors.join('; ')}`);
  console.log(JSON.stringify({ shown, sentOverWebSocket, httpWrites }));
} catch (e) {
  console.error(`browser test failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}

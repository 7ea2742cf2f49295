// How soon the console shows a screen, measured in the browser as the user meets it: from the
// navigation's start (performance.now() = 0) to the first frame painted after the awaited
// element entered the page. The element is watched by a MutationObserver installed before any
// of the page's own scripts; the time is taken in the second animation frame after it appeared
// (the first frame's callbacks run before that frame is painted, the second's after), so the
// number includes the paint. The browser's own first-contentful-paint is recorded beside it.

/**
 * Installed in every page of `context` from now on: for each `key: selector` of `watched`, records
 * when the selector first appears (`window.__ilotShown[key]`).
 */
export async function watchFor(context, watched) {
  await context.addInitScript((selectors) => {
    const shown = (window.__ilotShown = {});
    const pending = new Set(Object.keys(selectors));
    const look = () => {
      for (const key of [...pending]) {
        if (!document.querySelector(selectors[key])) continue;
        pending.delete(key);
        requestAnimationFrame(() => requestAnimationFrame(() => { shown[key] = performance.now(); }));
      }
      return pending.size === 0;
    };
    new MutationObserver((_, observer) => { if (look()) observer.disconnect(); })
      .observe(document, { childList: true, subtree: true });
  }, watched);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Opens `url` in a new page of `context` `samples` times; for each, the milliseconds from the
 * navigation's start until the element watched as `key` was painted, and the browser's first contentful
 * paint. Resolves to medians and every sample.
 */
export async function paintTimes(context, url, key, samples = 5) {
  const shown = [];
  const fcp = [];
  for (let i = 0; i < samples; i++) {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction((k) => typeof window.__ilotShown?.[k] === 'number', key, { timeout: 30_000 });
    shown.push(await page.evaluate((k) => window.__ilotShown[k], key));
    fcp.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
    await page.close();
  }
  const round = (xs) => xs.map((x) => Math.round(x));
  return { shown_ms: Math.round(median(shown)), fcp_ms: Math.round(median(fcp)), shown_samples: round(shown), fcp_samples: round(fcp) };
}

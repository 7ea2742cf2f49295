// The patient's path at phone sizes, in the real app window resized through WebDriver (390×844,
// 360×640). On every screen: no horizontal overflow (also at 200 % text), every tap target at
// least 44×44 CSS px (measured here), no serious or critical axe-core violation (axe injected
// into the webview), and a screenshot. Home: the bottom tab bar, no navigation at the top, and
// the number, the curve and the first alert inside the first viewport. Problems found on the
// screens are gathered and asserted by the last step, so one run lists them all.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { onboard, nav, tid } from './patient.mjs';
import { sleep } from './webdriver.mjs';

const requireUi = createRequire(new URL('../../ui/package.json', import.meta.url));
const AXE_SOURCE = readFileSync(requireUi.resolve('axe-core/axe.min.js'), 'utf8');

/** Resizes the window so that the page's viewport is exactly width × height CSS px. */
export async function resize(s, width, height) {
  let [w, h] = [width, height];
  for (let i = 0; i < 4; i += 1) {
    await s.setWindowRect(w, h);
    let inner = null;
    for (let t = 0; t < 30; t += 1) {
      await sleep(100);
      inner = await s.execute('return [window.innerWidth, window.innerHeight]');
      if (inner[0] <= w && inner[1] <= h) break;
    }
    if (inner[0] === width && inner[1] === height) return;
    // Window decorations (if any) take their part: ask for the difference on top.
    w += width - inner[0];
    h += height - inner[1];
  }
  const got = await s.execute('return [window.innerWidth, window.innerHeight]');
  throw new Error(`the viewport is ${got.join('×')} CSS px, not ${width}×${height}`);
}

/** What the page says about its own layout: horizontal overflow (with the widest culprits) and
 *  the tap targets under 44×44 CSS px (a checkbox or radio is measured by its label). */
const LAYOUT = `
  const vw = window.innerWidth;
  const overflow = document.documentElement.scrollWidth - vw;
  const name = (e) => {
    const id = e.dataset.testid ? '[' + e.dataset.testid + ']' : e.id ? '#' + e.id : '';
    return e.tagName.toLowerCase() + id + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + ' "' + (e.textContent || '').trim().slice(0, 30) + '"';
  };
  const culprits = overflow > 0 ? [...document.querySelectorAll('body *')]
    .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > vw + 0.5 && getComputedStyle(e).position !== 'fixed'; })
    .slice(-4).map((e) => name(e) + ' right=' + Math.round(e.getBoundingClientRect().right)) : [];
  const small = [];
  const sel = 'button, a[href], input:not([type=hidden]), select, textarea, summary, [role=button], [role=tab], [tabindex]:not([tabindex="-1"])';
  for (const e of document.querySelectorAll(sel)) {
    const cs = getComputedStyle(e);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    let r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right <= 0 || r.left >= vw) continue; // the skip link, off screen until focused
    if (e.closest('.sr-only')) continue;
    if (e.matches('input[type=checkbox], input[type=radio]') && e.closest('label')) r = e.closest('label').getBoundingClientRect();
    if (r.width < 43.5 || r.height < 43.5) small.push(name(e) + ' ' + Math.round(r.width) + '×' + Math.round(r.height));
  }
  return { overflow, culprits, small };
`;

/** axe-core in the webview: the serious and critical violations of the page as it is now. */
async function axe(s) {
  const loaded = await s.execute('return typeof window.axe === "object"');
  if (!loaded) await s.execute(`${AXE_SOURCE}\n;return true;`);
  const out = await s.executeAsync(`
    const done = arguments[arguments.length - 1];
    window.axe.run(document, { resultTypes: ['violations'] }).then(
      (r) => done(r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => v.impact + ' ' + v.id + ': ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '))),
      (e) => done(['axe failed: ' + e]));`);
  return out;
}

/** Checks the screen as it is now and keeps a screenshot; problems go to ctx.problems. */
async function check(ctx, label, { a11y = true } = {}) {
  const s = ctx.session;
  await sleep(250); // charts draw on the next frames
  const layout = await s.execute(LAYOUT);
  const problems = [];
  if (layout.overflow > 0) problems.push(`${layout.overflow} px of horizontal overflow (${layout.culprits.join('; ')})`);
  for (const t of layout.small) problems.push(`tap target under 44×44: ${t}`);
  if (a11y) for (const v of await axe(s)) problems.push(`axe ${v}`);
  for (const p of problems) ctx.problems.push(`${label}: ${p}`);
  ctx.checked.push(label);
  await ctx.shot(label);
}

/** The tab bar at the bottom, one row of five, inside the viewport; no navigation in the header. */
async function assertTabBar(s, label) {
  const bar = await s.execute(`
    const bar = document.querySelector('[data-testid="tab-bar"]');
    if (!bar) return null;
    const r = bar.getBoundingClientRect();
    const items = [...bar.querySelectorAll('.tabs button')].map((b) => b.getBoundingClientRect());
    const header = document.querySelector('header');
    return { top: r.top, bottom: r.bottom, height: r.height, vh: window.innerHeight, items: items.length,
      rows: new Set(items.map((i) => Math.round(i.top))).size,
      headerNav: header ? header.querySelectorAll('nav, [data-testid^="nav-"]').length : 0,
      headerHeight: header ? header.getBoundingClientRect().height : 0 };`);
  assert.ok(bar, `${label}: the bottom tab bar is shown`);
  assert.ok(bar.bottom <= bar.vh + 0.5 && bar.top >= bar.vh - 100, `${label}: the tab bar sits at the bottom (${JSON.stringify(bar)})`);
  assert.equal(bar.items, 5, `${label}: five destinations`);
  assert.equal(bar.rows, 1, `${label}: the tab bar is one row`);
  assert.equal(bar.headerNav, 0, `${label}: no navigation in the header`);
  return bar;
}

/** The screens of the patient path after onboarding, each reached as a patient would. */
const SCREENS = [
  ['home', async (s) => { await nav(s, 'home'); await s.waitFor(`${tid('recent-curve')} canvas`); }],
  ['logbook', async (s) => { await nav(s, 'logbook'); await s.waitFor(tid('logbook-entry')); }],
  ['charts-agp', async (s) => { await nav(s, 'charts'); await s.waitFor(`${tid('agp-chart')} canvas`); }],
  ['charts-day', async (s) => { await s.click(tid('tab-day')); await s.waitFor(`${tid('chart-day')} canvas`); }],
  ['charts-trend', async (s) => { await s.click(tid('tab-trend')); await s.waitFor(tid('trend-view')); }],
  ['observance', async (s) => { await nav(s, 'observance'); await s.waitFor('main', { text: 'prescription de votre équipe' }); }],
  ['education', async (s) => { await nav(s, 'education'); await s.waitFor(tid('nurse-mode')); }],
  ['nurse-session', async (s) => { await s.click(tid('nurse-mode')); await s.waitFor(tid('nurse-form')); }],
  ['messages', async (s) => { await nav(s, 'messages'); await s.waitFor(tid('messages-empty')); }],
  ['appointments', async (s) => { await nav(s, 'appointments'); await s.waitFor(tid('appointments-empty')); }],
  ['devices', async (s) => { await nav(s, 'devices'); await s.waitFor(tid('devices-scan')); }],
  ['access', async (s) => { await nav(s, 'access'); await s.waitFor(tid('access-empty')); }],
  ['settings', async (s) => { await nav(s, 'settings'); await s.waitFor('#text-scale'); }],
];
const FORMS = ['glucose', 'insulin', 'carbs', 'hypo', 'note'];

async function openForm(s, kind) {
  await nav(s, 'home');
  await s.click(tid('quick-fab'));
  await s.click(tid(`fab-${kind}`));
  await s.waitFor(tid('entry-form'));
}

/** Every numeric field opens the decimal keypad and shows its unit beside it, on the same line. */
async function assertNumericFields(s, kind) {
  const fields = await s.execute(`
    return [...document.querySelectorAll('[data-testid="entry-form"] input[inputmode]')].map((i) => {
      const r = i.getBoundingClientRect();
      const u = i.parentElement.querySelector('.unit');
      const ur = u ? u.getBoundingClientRect() : null;
      return { id: i.id, mode: i.inputMode, unit: u ? u.textContent.trim() : null,
        beside: !!ur && ur.left >= r.right - 1 && ur.top < r.bottom && ur.bottom > r.top };
    });`);
  if (kind === 'note') return;
  assert.ok(fields.length > 0, `${kind}: a numeric field`);
  for (const f of fields) {
    assert.ok(['decimal', 'numeric'].includes(f.mode), `${kind}: ${f.id} opens a numeric keypad`);
    assert.ok(f.unit && f.beside, `${kind}: ${f.id} shows its unit beside it (${JSON.stringify(f)})`);
  }
}

function phoneSteps(width, height) {
  const size = `${width}x${height}`;
  return [
    {
      name: `resize-${size}`,
      async run(ctx) {
        ctx.problems = [];
        ctx.checked = [];
        await ctx.session.waitFor(tid('onboarding'));
        await resize(ctx.session, width, height);
      },
    },
    {
      name: 'onboarding',
      async run(ctx) {
        await onboard(ctx.session, { each: (label) => check(ctx, label) });
      },
    },
    {
      name: 'home-empty',
      async run(ctx) {
        const s = ctx.session;
        await s.waitFor(`${tid('recent-curve')} canvas`);
        await assertTabBar(s, 'home');
        // One line: a dot and a few words; the whole sentence opens on tap.
        const chip = await s.execute(`const r = document.querySelector('[data-testid="sync-short"]').getBoundingClientRect();
          return { height: r.height, line: parseFloat(getComputedStyle(document.documentElement).fontSize) * 1.5 };`);
        assert.ok(chip.height < 2 * chip.line + 16, `the sync status is one line (${JSON.stringify(chip)})`);
        assert.equal((await s.findAll(tid('sync-line'))).length, 0, 'the sentence waits for a tap');
        await s.click(tid('sync-short'));
        assert.match(await s.textOf(tid('sync-line')), /l'envoi commencera quand l'appareil sera relié à votre équipe/);
        await check(ctx, 'sync-details');
        await s.click(tid('sync-short'));
        await check(ctx, 'home-empty');
      },
    },
    {
      name: 'glucose-entry-one-thumb',
      async run(ctx) {
        const s = ctx.session;
        await openForm(s, 'glucose');
        await assertNumericFields(s, 'glucose');
        await check(ctx, 'form-glucose');
        await s.type(tid('glucose-input'), '55');
        await s.click(tid('entry-save'));
        assert.match(await s.textOf(tid('field-error')), /0,10 à 6,00 g\/L/);
        await s.type(tid('glucose-input'), '0,55'); // the French comma
        await s.click(tid('entry-save'));
        await s.waitFor(tid('notice'), { text: 'Enregistré' });
        assert.equal(await s.textOf(tid('glucose-value')), '0,55');
      },
    },
    {
      name: 'home-first-viewport',
      async run(ctx) {
        const s = ctx.session;
        await s.waitFor(`${tid('alert')}[data-kind="hypo-l1"]`);
        await s.waitFor(`${tid('recent-curve')} canvas`);
        const bar = await assertTabBar(s, 'home');
        const seen = await s.execute(`
          window.scrollTo(0, 0);
          const box = (sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return { top: Math.round(r.top), bottom: Math.round(r.bottom) }; };
          return { number: box('[data-testid="glucose-value"]'), now: box('[data-testid="glucose-now"]'),
            curve: box('[data-testid="recent-curve"]'), alert: box('[data-testid="alert"]'),
            scrollY: window.scrollY };`);
        ctx.metrics[`home_${size}`] = { ...seen, tab_bar_top: Math.round(bar.top) };
        const inside = (part, bottom) => assert.ok(seen[part].top >= 0 && bottom <= bar.top + 0.5,
          `${part} inside the first viewport above the tab bar at ${size}: ${JSON.stringify(seen[part])}, tab bar at ${Math.round(bar.top)}`);
        inside('now', seen.now.bottom);
        inside('curve', seen.curve.bottom);
        // Both sizes read in one screen: the whole alert with its advice and "done" (on the short
        // 360×640 the curve is drawn lower to leave it the room).
        inside('alert', seen.alert.bottom);
        // The curve's length is the patient's choice, kept when coming back.
        await s.click(tid('recent-3'));
        await nav(s, 'logbook');
        await nav(s, 'home');
        assert.equal(await s.execute('return document.querySelector(\'[data-testid="recent-curve"]\').dataset.hours'), '3');
        await s.click(tid('recent-6'));
        await check(ctx, 'home');
      },
    },
    {
      name: 'forms',
      async run(ctx) {
        for (const kind of FORMS) {
          await openForm(ctx.session, kind);
          await assertNumericFields(ctx.session, kind);
          await check(ctx, `form-${kind}`);
          await ctx.session.click(tid('entry-cancel'));
        }
        // The "Plus" menu with its five screens.
        await ctx.session.click(tid('nav-more'));
        await ctx.session.waitFor(tid('more-menu'));
        await check(ctx, 'more-menu');
        await ctx.session.click(tid('nav-more'));
      },
    },
    {
      name: 'every-screen',
      async run(ctx) {
        for (const [label, reach] of SCREENS) {
          await reach(ctx.session);
          await check(ctx, label);
        }
        // Day navigation on the phone: the buttons change the day.
        const s = ctx.session;
        await nav(s, 'charts');
        await s.click(tid('tab-day'));
        const today = await s.textOf(`${tid('day-view')} h2`);
        await s.click(tid('day-previous'));
        await s.waitFor(`${tid('day-view')} h2`, { text: new RegExp(`^(?!${today}$)`) });
        await s.click(tid('day-next'));
        await s.waitFor(`${tid('day-view')} h2`, { text: today });
      },
    },
    {
      name: 'text-200-percent',
      async run(ctx) {
        const s = ctx.session;
        await nav(s, 'settings');
        await s.waitFor('#text-scale');
        await s.execute(
          "const r = document.querySelector('#text-scale'); r.value = '200';" +
            "r.dispatchEvent(new Event('input', { bubbles: true })); r.dispatchEvent(new Event('change', { bubbles: true }));",
        );
        await s.waitFor('label[for="text-scale"]', { text: '200 %' });
        assert.equal(await s.execute('return getComputedStyle(document.documentElement).fontSize'), '32px');
        for (const [label, reach] of SCREENS) {
          await reach(s);
          if (label === 'home') await assertTabBar(s, 'home at 200 %');
          await check(ctx, `${label}-200`, { a11y: false });
        }
        for (const kind of FORMS) {
          await openForm(s, kind);
          await check(ctx, `form-${kind}-200`, { a11y: false });
          await s.click(tid('entry-cancel'));
        }
      },
    },
    {
      name: 'no-overflow-small-target-or-axe-violation',
      async run(ctx) {
        console.log(`    checked ${ctx.checked.length} screens at ${size}`);
        assert.deepEqual(ctx.problems, [], `problems at ${size}:\n  ${ctx.problems.join('\n  ')}`);
      },
    },
  ];
}

export const PHONE_SCENARIOS = [
  { name: 'phone-390x844', env: { ILOT_SIM: '1' }, steps: phoneSteps(390, 844) },
  { name: 'phone-360x640', env: { ILOT_SIM: '1' }, steps: phoneSteps(360, 640) },
];

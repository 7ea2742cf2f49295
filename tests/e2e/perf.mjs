// Performance of the real app window with demo data (ILOT_DEMO=1): cold start to the home screen
// with data, 90 days of CGM in the charts (timed inside the webview with performance.now around
// the render), and memory (RSS) with a year of data. Numbers go to
// artifacts/<scenario>-metrics.json and the console; nothing is asserted on timings. The
// baseline of the same run is the same app, window and screen with the least data the demo
// seeds (2 days, perf-baseline-2-days): every cold start, baseline included, waits for the same
// element (the last glucose on the home screen), and each is sampled SAMPLES times.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processTree } from './harness.mjs';
import { nav } from './patient.mjs';
import { resize } from './phone.mjs';

const tid = (id) => `[data-testid="${id}"]`;

/** Onboarding done without a PIN, so a cold start opens straight on the home screen. */
function preOnboarded(dataDir) {
  writeFileSync(
    join(dataDir, 'ilot.settings.json'),
    JSON.stringify({ language: 'fr', text_scale: 100, onboarded: true, consent: null, pin_hash: null }),
  );
}

async function perf(s, name, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await s.execute(`return (window.__ilotPerf || {})[${JSON.stringify(name)}] || null`);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no timing ${name} recorded`);
}

function memory(ctx) {
  const tree = processTree(ctx.driver.child.pid);
  const app = tree.find((p) => p.comm.startsWith('ilot-app'));
  const web = tree.filter((p) => /^WebKit/.test(p.comm));
  return {
    app_rss_mib: app ? +(app.rssKiB / 1024).toFixed(1) : null,
    webkit_rss_mib: +(web.reduce((a, p) => a + p.rssKiB, 0) / 1024).toFixed(1),
    processes: tree.map((p) => `${p.comm}:${(p.rssKiB / 1024).toFixed(1)}MiB`),
  };
}

/** Cold starts per scenario: the median is reported, with every sample. */
const SAMPLES = 5;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
}

/** The same two steps for the measured scenarios and the baseline: first start (seeding the
 *  demo data), then SAMPLES cold starts to the home screen showing the last glucose. */
const START_STEPS = [
  {
    name: 'first-start-seeds-demo',
    async run(ctx) {
      await ctx.session.waitFor(tid('glucose-value'), { timeoutMs: 120_000 });
      ctx.metrics.first_start_with_seeding_ms = Math.round(performance.now() - ctx.startedAt);
    },
  },
  {
    name: 'cold-start',
    async run(ctx) {
      const total = [];
      const inside = [];
      for (let i = 0; i < SAMPLES; i++) {
        const t0 = await ctx.restart();
        await ctx.session.waitFor(tid('glucose-value'));
        total.push(Math.round(performance.now() - t0));
        inside.push(Math.round((await perf(ctx.session, 'first-data')).ms));
      }
      ctx.metrics.cold_start_to_data_ms = median(total);
      ctx.metrics.cold_start_samples_ms = total;
      ctx.metrics.webview_start_to_data_ms = median(inside);
      ctx.metrics.webview_start_samples_ms = inside;
      // The home curve of the last hours (issue #13), drawn after the number.
      await ctx.session.waitFor(`${tid('recent-curve')} canvas`);
      const curve = await perf(ctx.session, 'recent');
      ctx.metrics.home_curve_render_ms = +curve.ms.toFixed(1);
      ctx.metrics.home_curve_points = curve.points;
    },
  },
];

/** Memory after visiting the logbook and the observance (screens every scenario can show). */
const MEMORY_STEP = {
  name: 'memory',
  async run(ctx) {
    await nav(ctx.session, 'logbook');
    await ctx.session.waitFor(tid('sensor-summary'));
    await nav(ctx.session, 'observance');
    await ctx.session.waitFor(tid('observance-current'));
    Object.assign(ctx.metrics, memory(ctx));
    console.log('   ', JSON.stringify(ctx.metrics));
  },
};

function steps(days) {
  return [
    ...START_STEPS,
    {
      name: `agp-${days}-days`,
      async run(ctx) {
        const s = ctx.session;
        await nav(s, 'charts');
        await s.click(tid('days-90'));
        const report = await perf(s, 'report-90');
        await s.waitFor(`${tid('agp-chart')} canvas`);
        const agp = await perf(s, 'agp');
        ctx.metrics.report_90_days_ipc_ms = Math.round(report.ms);
        ctx.metrics.report_90_days_readings = report.points;
        ctx.metrics.agp_render_ms = +agp.ms.toFixed(1);
      },
    },
    {
      name: `every-reading-${days}-days`,
      async run(ctx) {
        const s = ctx.session;
        await s.click(tid('tab-trend'));
        const series = await perf(s, 'series-90');
        await s.waitFor(`${tid('chart-trend-90')} canvas`);
        const chart = await perf(s, 'trend-90');
        assert.ok(chart.points > 20_000, `90 days of CGM expected, got ${chart.points} points`);
        ctx.metrics.series_90_days_ipc_ms = Math.round(series.ms);
        ctx.metrics.trend_90_days_render_ms = +chart.ms.toFixed(1);
        ctx.metrics.trend_90_days_points = chart.points;
      },
    },
    {
      name: 'charts-at-phone-size',
      async run(ctx) {
        // The same charts in a 390×844 viewport (issue #13): drawn again at the phone's width.
        const s = ctx.session;
        await resize(s, 390, 844);
        await s.execute('window.__ilotPerf = {}');
        await nav(s, 'home');
        await nav(s, 'charts');
        await s.click(tid('tab-agp'));
        await s.click(tid('days-90'));
        await s.waitFor(`${tid('agp-chart')} canvas`);
        ctx.metrics.phone_agp_render_ms = +(await perf(s, 'agp')).ms.toFixed(1);
        await s.click(tid('tab-trend'));
        await s.waitFor(`${tid('chart-trend-90')} canvas`);
        const chart = await perf(s, 'trend-90');
        ctx.metrics.phone_trend_90_days_render_ms = +chart.ms.toFixed(1);
        ctx.metrics.phone_trend_90_days_points = chart.points;
        await nav(s, 'home');
        await s.waitFor(`${tid('recent-curve')} canvas`);
        ctx.metrics.phone_home_curve_render_ms = +(await perf(s, 'recent')).ms.toFixed(1);
      },
    },
    MEMORY_STEP,
  ];
}

/** The baseline measured in the same run: the same app, window and home screen with 2 days of
 *  demo data (the least the demo seeds), the same cold starts, and memory after the same screens. */
const BASELINE_STEPS = [...START_STEPS, MEMORY_STEP];

export const PERF_SCENARIOS = [
  { name: 'perf-baseline-2-days', env: { ILOT_DEMO: '1', ILOT_DEMO_DAYS: '2' }, setup: preOnboarded, steps: BASELINE_STEPS },
  { name: 'perf-90-days', env: { ILOT_DEMO: '1', ILOT_DEMO_DAYS: '90' }, setup: preOnboarded, steps: steps(90) },
  { name: 'perf-365-days', env: { ILOT_DEMO: '1', ILOT_DEMO_DAYS: '365' }, setup: preOnboarded, steps: steps(90) },
];

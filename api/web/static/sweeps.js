// Coverage curves (POST /v1/sweeps): submit one from a shipped scenario, follow it, and see
// residents within a walk against the number of new stations, as a chart and as a table.

import { api, ApiError, esc, fmt } from './api.js';
import { parseNumber } from './form.js';
import { downloadList, jobView, wireDownloads } from './planner.js';

const BASE = '/v1/sweeps';

/** Sweeps, newest first, and the form of a new one. */
export async function listView(el) {
  const [shipped, jobs] = await Promise.all([api('/v1/web/scenarios'), api(`${BASE}?limit=50`)]);
  const scen = shipped.filter((s) => s.kind === 'scenario');
  el.innerHTML = `
    <section>
      <h2>Coverage curves</h2>
      <p>How many residents are within a walk of a station as the plan adds more new stations: each point is the scenario planned with at most that many.</p>
      <form id="sweep-form" class="schema-form" novalidate>
        <div class="field"><label for="f-sweep-scenario">Scenario</label>
          <select id="f-sweep-scenario">${scen.map((s) => `<option value="${esc(s.file)}">${esc(s.name)}</option>`).join('')}</select></div>
        <div class="field"><label for="f-new_stations">New stations: first:last:step</label>
          <input id="f-new_stations" type="text" value="300:800:100" aria-describedby="f-new_stations-err">
          <p class="error" id="f-new_stations-err" aria-live="polite"></p></div>
        <div class="field"><label for="f-sweep-time_limit">Solver time limit per point (s)</label>
          <input id="f-sweep-time_limit" type="text" inputmode="decimal" autocomplete="off" aria-describedby="f-sweep-time_limit-err">
          <p class="error" id="f-sweep-time_limit-err" aria-live="polite"></p></div>
        <div class="field"><label><input id="f-with_500m" type="checkbox"> Also within a 500 m walk</label></div>
        <div class="actions"><button type="submit" class="primary" id="submit-sweep">Submit the curve</button></div>
        <p class="error" id="sweep-err" role="alert"></p>
      </form>
    </section>
    <section>
      <div class="table-wrap" tabindex="0"><table class="data" id="sweep-list"><caption>Curves, newest first</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Author</th><th scope="col">Submitted</th><th scope="col">Points</th><th scope="col"><span class="visually-hidden">Links</span></th></tr></thead>
        <tbody>${jobs.items.map((j) => `<tr><td>${esc(j.name)}</td><td><span class="badge badge-${esc(j.status)}">${esc(j.status)}</span></td>
          <td>${esc(j.author)}</td><td>${esc(new Date(j.created_at).toLocaleString())}</td><td>${fmt(j.kpis && j.kpis.points && j.kpis.points.length)}</td>
          <td><a href="#/curve/${esc(j.id)}">${j.status === 'succeeded' ? 'Curve' : 'Progress'}</a></td></tr>`).join('')}</tbody></table></div>
    </section>`;
  const pick = /** @type {HTMLSelectElement} */ (el.querySelector('#f-sweep-scenario'));
  const limit = /** @type {HTMLInputElement} */ (el.querySelector('#f-sweep-time_limit'));
  const chosen = () => scen.find((s) => s.file === pick.value);
  const syncLimit = () => { limit.value = String(((chosen() || {}).body || {}).solver?.time_limit ?? ''); };
  pick.addEventListener('change', syncLimit);
  syncLimit();
  el.querySelector('#sweep-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    el.querySelectorAll('#sweep-form .error').forEach((e) => { e.textContent = ''; });
    const s = chosen();
    if (!s) return;
    const scenario = structuredClone(s.body);
    if (limit.value.trim()) {
      // what was typed, or its problem beside the field: never the scenario's own limit instead
      const n = parseNumber(limit.value, false);
      if ('problem' in n) {
        el.querySelector('#f-sweep-time_limit-err').textContent = n.problem;
        return;
      }
      scenario.solver = { ...(scenario.solver || {}), time_limit: n.value };
    }
    const body = {
      scenario,
      new_stations: /** @type {HTMLInputElement} */ (el.querySelector('#f-new_stations')).value.trim(),
      with_500m: /** @type {HTMLInputElement} */ (el.querySelector('#f-with_500m')).checked,
    };
    try {
      const acc = await api(BASE, { method: 'POST', body });
      location.hash = `#/curve/${acc.id}`;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const general = el.querySelector('#sweep-err');
      general.textContent = e.message;
      for (const err of e.body.errors || []) {
        const f = String(err.field || '');
        // a range in the wrong order is refused by the whole body's check, which names the field
        const slot = f.endsWith('new_stations') || String(err.problem).includes('new_stations') ? '#f-new_stations-err'
          : f.endsWith('time_limit') ? '#f-sweep-time_limit-err' : null;
        if (slot) el.querySelector(slot).textContent = err.problem;
      }
    }
  });
}

/** Evenly spaced round tick values covering [lo, hi]. */
function ticks(lo, hi, n = 5) {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

/**
 * The curve as an SVG line chart: residents within a walk (%) against new stations (or budget).
 * @param {any} doc the sweep.json document
 */
export function curveSvg(doc, width = 720, height = 360) {
  const budget = doc.axis === 'budget';
  const xOf = (p) => (budget ? p.budget : p.sited);
  const series = [{ key: 'covered_share', label: `within ${fmt(doc.radius_m)} m`, cls: 'main', before: doc.covered_share_before }];
  if (doc.points.some((p) => p.covered_share_500 !== null && p.covered_share_500 !== undefined)) {
    series.push({ key: 'covered_share_500', label: 'within 500 m', cls: 'alt', before: doc.covered_share_500_before });
  }
  const xs = doc.points.map(xOf);
  const ys = series.flatMap((s) => [...doc.points.map((p) => p[s.key]), s.before]).filter((v) => v !== null && v !== undefined).map((v) => 100 * v);
  const x0 = budget ? Math.min(...xs) : 0;
  const x1 = Math.max(...xs);
  const y0 = Math.floor(Math.min(...ys) / 5) * 5;
  const y1 = Math.ceil(Math.max(...ys) / 5) * 5;
  const m = { l: 56, r: 16, t: 16, b: 44 };
  const sx = (v) => m.l + ((v - x0) / (x1 - x0 || 1)) * (width - m.l - m.r);
  const sy = (v) => height - m.b - ((v - y0) / (y1 - y0 || 1)) * (height - m.t - m.b);
  const grid = ticks(y0, y1).map((v) => `<line class="grid" x1="${m.l}" x2="${width - m.r}" y1="${sy(v)}" y2="${sy(v)}"/>
    <text class="tick" x="${m.l - 6}" y="${sy(v) + 4}" text-anchor="end">${fmt(v)} %</text>`).join('');
  const xt = ticks(x0, x1, 6).map((v) => `<text class="tick" x="${sx(v)}" y="${height - m.b + 18}" text-anchor="middle">${fmt(budget ? v / 1e9 : v, budget ? 1 : 0)}</text>`).join('');
  const lines = series.map((s) => {
    const pts = doc.points.filter((p) => p[s.key] !== null && p[s.key] !== undefined);
    const path = [...(budget ? [] : [[0, s.before]]), ...pts.map((p) => [xOf(p), p[s.key]])]
      .filter(([, y]) => y !== null && y !== undefined)
      .map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(100 * y).toFixed(1)}`).join(' ');
    return `<path class="curve ${s.cls}" d="${path}"/>` + pts.map((p) => `<circle class="pt ${s.cls}" cx="${sx(xOf(p)).toFixed(1)}" cy="${sy(100 * p[s.key]).toFixed(1)}" r="4">
      <title>${fmt(xOf(p))}: ${fmt(100 * p[s.key], 1)} % ${esc(s.label)}</title></circle>`).join('');
  }).join('');
  const xLabel = budget ? 'budget (billion ₩)' : 'new stations sited';
  return `<svg class="curve-chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="curve-title">
    <title id="curve-title">Residents within a walk (%) against ${esc(xLabel)}</title>
    ${grid}${xt}
    <line class="axis" x1="${m.l}" x2="${width - m.r}" y1="${height - m.b}" y2="${height - m.b}"/>
    <text class="label" x="${(m.l + width - m.r) / 2}" y="${height - 6}" text-anchor="middle">${esc(xLabel)}</text>
    ${lines}
    <g class="key">${series.map((s, i) => `<line class="curve ${s.cls}" x1="${m.l + 12}" x2="${m.l + 36}" y1="${m.t + 10 + 18 * i}" y2="${m.t + 10 + 18 * i}"/>
      <text class="tick" x="${m.l + 42}" y="${m.t + 14 + 18 * i}">${esc(s.label)}</text>`).join('')}</g>
  </svg>`;
}

/** A curve: progress while it runs; then the chart, the points and the downloads. */
export async function curveView(el, [id], params, alive) {
  const info = await api(`${BASE}/${id}`);
  if (info.status !== 'succeeded') {
    // the progress page's link would be this very page: show the curve when the job succeeds
    await jobView(el, [id], params, alive, BASE, `#/curve/${id}?done=1`);
    if (!alive() || !el.querySelector('#open-result')) return;
    location.hash = `#/curve/${id}?done=1`;
    return;
  }
  const doc = await api(`${BASE}/${id}/sweep`);
  const budget = doc.axis === 'budget';
  el.innerHTML = `
    <h2>Coverage curve: ${esc(doc.scenario)} <small class="mono">${esc(id.slice(0, 12))}</small></h2>
    <div class="split plan">
      <figure id="curve"><figcaption>Residents within ${fmt(doc.radius_m)} m of a station: ${fmt(100 * doc.covered_share_before, 1)} % before the plan (the curve's start)</figcaption>
        ${curveSvg(doc)}</figure>
      <aside>
        <div class="table-wrap" tabindex="0"><table class="data" id="curve-table"><caption>Points of the curve</caption>
          <thead><tr><th scope="col">${budget ? 'Budget' : 'New stations (asked)'}</th><th scope="col">Sited</th><th scope="col">Within a walk</th>
          <th scope="col">Residents per added station</th><th scope="col">Solver</th></tr></thead>
          <tbody>${doc.points.map((p) => `<tr><th scope="row">${fmt(budget ? p.budget : p.new_stations)}</th><td>${fmt(p.sited)}</td>
            <td>${fmt(100 * p.covered_share, 1)} %</td><td>${fmt(p.marginal_residents_per_station)}</td><td>${esc(p.status)}${p.gap ? ` (gap ${fmt(100 * p.gap, 2)} %)` : ''}</td></tr>`).join('')}</tbody></table></div>
        ${downloadList([['sweep?format=csv', 'sweep.csv', 'Points (CSV)'], ['sweep?format=json', 'sweep.json', 'Curve (JSON)']])}
      </aside>
    </div>`;
  wireDownloads(el, `${BASE}/${id}`, `${doc.scenario}-curve-${id.slice(0, 8)}`);
  el.querySelector('#curve').dataset.ready = 'true';
}

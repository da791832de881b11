// Planner views: scenarios and past plans, the scenario form, job progress, the plan map,
// and the comparison of two plans.

import { api, ApiError, download, esc, fmt, openApi, pollJob } from './api.js';
import { buildForm } from './form.js';
import { CHOROPLETH, createMap, drawCoverage, drawDistricts, drawPlan, fitStations, planStations, syncMaps } from './map.js';


const BASE = '/v1/scenarios';

function statusBadge(s) {
  return `<span class="badge badge-${esc(s)}">${esc(s)}</span>`;
}

/**
 * How a finished plan's two solves ended (`kpis.siting_status`, `kpis.fleet_status`), as badges;
 * a dash before the plan is made.
 * @param {any} kpis
 */
function solverStatuses(kpis) {
  const st = [kpis && kpis.siting_status, kpis && kpis.fleet_status].filter(Boolean);
  return st.length ? st.map((s) => `<span class="badge badge-solver-${esc(s)}">${esc(s)}</span>`).join(' · ') : '–';
}

/** Shipped scenarios and past jobs. */
export async function listView(el) {
  const [shipped, jobs] = await Promise.all([api('/v1/web/scenarios'), api(`${BASE}?limit=50`)]);
  const scen = shipped.filter((s) => s.kind === 'scenario');
  el.innerHTML = `
    <section>
      <h2>Start a plan</h2>
      <ul class="cards">${scen.map((s) => `
        <li><h3>${esc(s.name)}</h3><p>${esc(s.description)}</p>
          <a class="button" href="#/plans/new?from=${encodeURIComponent(s.file)}">Open ${esc(s.name)}</a></li>`).join('')}
      </ul>
    </section>
    <section>
      <h2>Plans</h2>
      <form id="compare-form">
      <div class="table-wrap" tabindex="0"><table class="data">
        <caption>Past scenario runs, newest first. Tick two to compare them.</caption>
        <thead><tr><th scope="col">Compare</th><th scope="col" class="text">Name</th><th scope="col">Status</th><th scope="col">Author</th>
          <th scope="col">Submitted</th><th scope="col">New stations</th><th scope="col">Bikes</th>
          <th scope="col">Solver <small>(sites · fleet)</small></th><th scope="col">Actions</th></tr></thead>
        <tbody>${jobs.items.map((j) => `
          <tr><td>${j.status === 'succeeded' ? `<input type="checkbox" name="cmp" value="${esc(j.id)}" aria-label="Compare ${esc(j.name)} ${esc(j.id.slice(0, 8))}">` : ''}</td>
            <td class="text">${esc(j.name)}</td><td>${statusBadge(j.status)}</td><td>${esc(j.author)}</td>
            <td>${esc(new Date(j.created_at).toLocaleString())}</td><td>${fmt(j.kpis && j.kpis.new_stations)}</td>
            <td>${fmt(j.kpis && j.kpis.total_bikes)}</td><td class="solver">${solverStatuses(j.kpis)}</td>
            <td>${j.status === 'succeeded'
              ? `<a href="#/plan/${esc(j.id)}">Map</a> · <a href="#/plans/new?from=${esc(j.id)}">Edit a copy</a>`
              : `<a href="#/jobs/${esc(j.id)}">Progress</a>${['failed', 'cancelled'].includes(j.status)
                ? ` · <a href="#/plans/new?from=${esc(j.id)}">Edit a copy</a>` : ''}`}</td></tr>`).join('')}
        </tbody>
      </table></div>
      <button type="submit" class="primary" id="compare-btn">Compare the two ticked plans</button>
      <p class="error" id="compare-err" aria-live="polite"></p>
      </form>
    </section>`;
  el.querySelector('#compare-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const ids = [...el.querySelectorAll('input[name=cmp]:checked')].map((i) => i.value);
    if (ids.length !== 2) {
      el.querySelector('#compare-err').textContent = `tick exactly two plans (${ids.length} ticked)`;
      return;
    }
    location.hash = `#/compare?a=${ids[0]}&b=${ids[1]}`;
  });
}

/** The starting value of the form: a shipped file, or the scenario of a past plan. */
async function startingPoint(from) {
  if (!from) return {};
  if (from.endsWith('.yaml')) {
    const shipped = await api('/v1/web/scenarios');
    const s = shipped.find((x) => x.file === from);
    if (!s) throw new Error(`no shipped scenario ${from}`);
    return s.body;
  }
  // the body the plan was submitted with (an uploaded baseline by its id), whatever its status:
  // a failed or cancelled plan has no plan.json to start from
  return api(`${BASE}/${from}/request`);
}

/** The scenario form, generated from the API's schema; 422 messages beside the fields. */
export async function newView(el, _m, params) {
  const [doc, value, lists] = await Promise.all([openApi(), startingPoint(params.get('from')),
    api('/v1/station-lists?limit=100').catch(() => ({ items: [] }))]);
  // the body POST /v1/scenarios takes (ScenarioRequest: published station lists and networks only)
  const ref = doc.paths['/v1/scenarios'].post.requestBody.content['application/json'].schema.$ref;
  const schema = doc.components.schemas[ref.split('/').pop()];
  el.innerHTML = `
    <h2>Scenario</h2>
    <div class="split scenario">
      <form id="scenario-form" class="schema-form" novalidate></form>
      <aside class="areas">
        <h3>Areas on the map</h3>
        <p>Draw an area: press a button, click its corners on the map, then press Finish. It is added to <em>areas</em> in the form.</p>
        <div class="buttons">
          <button type="button" data-draw="forbidden">Draw a forbidden area</button>
          <button type="button" data-draw="required">Draw a required area</button>
          <button type="button" id="draw-finish" disabled>Finish</button>
        </div>
        <div id="area-map" class="map small" role="region" aria-label="Map for drawing areas"></div>
      </aside>
    </div>`;
  const formEl = /** @type {HTMLFormElement} */ (el.querySelector('#scenario-form'));
  const form = buildForm(formEl, schema, doc, value);
  offerStationLists(form, lists.items);
  const submit = document.createElement('div');
  submit.className = 'actions';
  submit.innerHTML = '<button type="submit" class="primary" id="submit-scenario">Submit</button>';
  formEl.append(submit);
  formEl.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = form.read();
    if (!body) return;
    try {
      const acc = await api(BASE, { method: 'POST', body });
      location.hash = `#/jobs/${acc.id}`;
    } catch (e) {
      if (e instanceof ApiError) form.showErrors(e.body);
      else form.showErrors({ detail: String(e) });
    }
  });
  drawAreas(el, await createMap(el.querySelector('#area-map')));
}

/**
 * `baseline.station_list_id` as a choice of the stored station lists (GET /v1/station-lists: name,
 * stations, author, date) instead of a typed id; the form reads it like the text field it replaces.
 * @param {{fields: any[]}} form @param {any[]} lists
 */
function offerStationLists(form, lists) {
  const f = form.fields.find((x) => x.path.join('.') === 'baseline.station_list_id');
  if (!f) return;
  const old = f.input;
  const select = document.createElement('select');
  for (const a of ['id', 'name', 'aria-describedby']) select.setAttribute(a, old.getAttribute(a));
  select.dataset.path = old.dataset.path;
  const opts = [['', lists.length ? '(none: the stations or station records above)' : '(no stored station lists)'],
    ...lists.map((l) => [l.id, `${l.name} · ${fmt(l.stations)} stations · ${l.author} · ${new Date(l.created_at).toLocaleDateString()}`])];
  if (old.value && !lists.some((l) => l.id === old.value)) opts.push([old.value, old.value]);
  select.innerHTML = opts.map(([v, t]) => `<option value="${esc(v)}">${esc(t)}</option>`).join('');
  select.value = old.value;
  old.replaceWith(select);
  f.input = select;
}

/** Click-to-draw polygons written into the areas.forbidden / areas.required fields. */
function drawAreas(el, map) {
  let kind = null;
  let pts = [];
  const finish = el.querySelector('#draw-finish');
  map.addSource('drawing', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'drawing', type: 'line', source: 'drawing', paint: { 'line-color': '#b00', 'line-width': 2 } });
  const redraw = () => map.getSource('drawing').setData({ type: 'FeatureCollection', features: pts.length > 1
    ? [{ type: 'Feature', geometry: { type: 'LineString', coordinates: [...pts, pts[0]] }, properties: {} }] : [] });
  el.querySelectorAll('[data-draw]').forEach((b) => b.addEventListener('click', () => {
    kind = b.dataset.draw;
    pts = [];
    finish.disabled = false;
    map.getCanvas().style.cursor = 'crosshair';
  }));
  map.on('click', (e) => {
    if (!kind) return;
    pts.push([+e.lngLat.lng.toFixed(5), +e.lngLat.lat.toFixed(5)]);
    redraw();
  });
  finish.addEventListener('click', () => {
    const input = /** @type {HTMLTextAreaElement|null} */ (document.getElementById(`f-areas-${kind}`));
    if (input && pts.length >= 3) {
      const list = input.value.trim() ? JSON.parse(input.value) : [];
      list.push({ name: `${kind} ${list.length + 1}`, coordinates: [[...pts, pts[0]]] });
      input.value = JSON.stringify(list);
    }
    kind = null;
    pts = [];
    finish.disabled = true;
    map.getCanvas().style.cursor = '';
  });
}

/**
 * Progress of a job with its stage names and, while it runs, the time since it started (a stage
 * of unknown length, such as a solver at its time limit, holds the bar); cancel; on to the result
 * when it succeeds.
 * @param {HTMLElement} el @param {string[]} m @param {URLSearchParams} _p @param {() => boolean} alive
 * @param {string} [base] @param {string} [doneHash]
 */
export async function jobView(el, [id], _p, alive, base = BASE, doneHash = `#/plan/${id}`) {
  el.innerHTML = `
    <h2>Job <span class="mono">${esc(id.slice(0, 12))}</span></h2>
    <p id="job-name"></p>
    <label for="job-progress">Progress</label>
    <progress id="job-progress" max="1" value="0"></progress>
    <p id="job-stage" aria-live="polite">queued</p>
    <p id="job-status" role="status"></p>
    <button type="button" id="cancel-job">Cancel</button>
    <p class="error" id="job-error" role="alert"></p>
    <p id="job-next"></p>`;
  const bar = /** @type {HTMLProgressElement} */ (el.querySelector('#job-progress'));
  const cancelBtn = /** @type {HTMLButtonElement} */ (el.querySelector('#cancel-job'));
  cancelBtn.addEventListener('click', async () => {
    cancelBtn.disabled = true;
    try {
      await api(`${base}/${id}`, { method: 'DELETE' });
    } catch (e) {
      el.querySelector('#job-error').textContent = e.message;
    }
  });
  const signal = { stopped: false };
  const job = await pollJob(`${base}/${id}`, (j) => {
    if (!alive()) {
      signal.stopped = true;
      return;
    }
    el.querySelector('#job-name').textContent = j.name || '';
    const stage = el.querySelector('#job-stage');
    const working = ['queued', 'running'].includes(j.status);
    if (!working && j.status !== 'succeeded') {
      // failed or cancelled: its message is the error below, shown once
      bar.value = j.progress;
      stage.textContent = `stopped at ${Math.round(j.progress * 100)} %`;
    } else {
      bar.value = j.progress;
      bar.textContent = `${Math.round(j.progress * 100)} %`;
      const since = j.status === 'running' ? ` · ${elapsed(j.started_at)} elapsed` : '';
      stage.textContent = `${Math.round(j.progress * 100)} % · ${j.message || j.status}${since}`;
    }
    el.querySelector('#job-status').innerHTML = `Status: ${statusBadge(j.status)}`;
    cancelBtn.hidden = !working; // nothing to cancel once the job has finished
  }, { signal });
  if (!alive()) return;
  if (job.status === 'succeeded') {
    bar.value = 1;
    el.querySelector('#job-next').innerHTML = `<a class="button primary" id="open-result" href="${doneHash}">Open the result</a>`;
  } else if (job.error) {
    el.querySelector('#job-error').textContent = errorLine(job.error);
  }
}

/**
 * A failed job's error as one line: its message, led by the field it names unless the message
 * already starts with it (an InputError's message is `field: got …; expected …`).
 * @param {{field?: string | null, message: string}} error
 */
function errorLine(error) {
  const f = error.field;
  return f && !error.message.startsWith(`${f}:`) ? `${f}: ${error.message}` : error.message;
}

/** Time since `startedAt` (an ISO date-time) as m:ss, or 0:00 before the job starts. @param {string | null} startedAt */
export function elapsed(startedAt) {
  const s = startedAt ? Math.max(0, Math.floor((Date.now() - Date.parse(startedAt)) / 1000)) : 0;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The map files of a plan or a night (api/routes/maps.py serves the same four for both): every
 * layer as a GeoPackage named after the result, the map as HTML, PNG and SVG.
 * @param {string} stem 'plan' or 'routes' @returns {string[][]} [path, file name, label]
 */
export function mapExports(stem) {
  return [
    [`${stem}.gpkg`, `${stem}.gpkg`, 'All layers (GeoPackage)'],
    ['map.html', 'map.html', 'Offline map (HTML)'],
    ['map.png', 'map.png', 'Map (PNG)'],
    ['map.svg', 'map.svg', 'Map (SVG)'],
  ];
}

const EXPORTS = [
  ['plan?format=json', 'plan.json', 'Plan (JSON)'],
  ['plan?format=csv', 'plan.csv', 'Stations (CSV)'],
  ['plan?format=geojson', 'plan.geojson', 'Stations (GeoJSON)'],
  ...mapExports('plan'),
  ['gbfs/gbfs.json', 'gbfs.json', 'GBFS feed index'],
  ['gbfs/station_information.json', 'station_information.json', 'GBFS station information'],
  ['gbfs/station_status.json', 'station_status.json', 'GBFS station status'],
];

/** A list of download buttons. @param {string[][]} exports [path, file name, label] */
export function downloadList(exports) {
  return `<h3>Downloads</h3><ul class="downloads">${exports.map(([p, f, l]) =>
    `<li><button type="button" data-path="${esc(p)}" data-file="${esc(f)}">${esc(l)}</button></li>`).join('')}</ul>
    <p class="error" id="download-err" aria-live="polite"></p>`;
}

/** Make the buttons of downloadList fetch `${base}/${path}` with the key and save it as `${stem}-${file}`. */
export function wireDownloads(el, base, stem) {
  el.querySelectorAll('.downloads button').forEach((btn) => btn.addEventListener('click', async () => {
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      await download(`${base}/${btn.dataset.path}`, `${stem}-${btn.dataset.file}`);
    } catch (e) {
      el.querySelector('#download-err').textContent = `${btn.textContent}: ${e.message}`;
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  }));
}

/** URLs of the district polygons and the coverage of a finished scenario (for the map's workers). */
function layerUrls(id) {
  return { districts: `${BASE}/${id}/layers/districts.geojson`, coverage: `${BASE}/${id}/layers/coverage.geojson` };
}

/** Plan document and the URLs of its map layers. */
async function loadPlan(id) {
  const [info, plan] = await Promise.all([api(`${BASE}/${id}`), api(`${BASE}/${id}/plan`)]);
  return { info, plan, ...layerUrls(id) };
}

function districtTable(plan) {
  const rows = [...(plan.districts || [])].sort((a, b) => a.bikes_per_10k - b.bikes_per_10k);
  const served = rows.some((d) => d.served_share && d.served_share.mean !== undefined);
  return `<div class="table-wrap" tabindex="0"><table class="data" id="district-table"><caption>Districts (구), fewest bikes per 10,000 residents first</caption>
    <thead><tr><th scope="col">구</th><th scope="col">Residents</th><th scope="col">Stations</th><th scope="col">Bikes</th>
    <th scope="col">Bikes / 10k</th><th scope="col">Walk coverage</th>${served ? '<th scope="col">Trips served</th>' : ''}</tr></thead><tbody>
    ${rows.map((d) => `<tr><th scope="row">${esc(d.gu)}</th><td>${fmt(d.population)}</td>
      <td>${fmt(d.stations_before)} → ${fmt(d.stations)}</td><td>${fmt(d.bikes)}</td><td>${fmt(d.bikes_per_10k, 1)}</td>
      <td>${fmt(100 * d.covered_share_before, 1)} → ${fmt(100 * d.covered_share, 1)} %</td>${served
        ? `<td>${fmt(mean(d.served_share_before, 100), 1)} → ${fmt(mean(d.served_share, 100), 1)} %</td>` : ''}</tr>`).join('')}
    </tbody></table></div>`;
}

function legend() {
  return `<div class="legend" aria-label="Legend"><span><i class="dot existing"></i>existing station</span>
    <span><i class="dot new"></i>new station</span><span><i class="sq coverage"></i>walking coverage</span>
    <span>bikes / 10k residents: ${CHOROPLETH.map(([v, c]) => `<i class="sq" style="background:${c}"></i>${v}`).join(' ')}</span></div>`;
}

/**
 * An estimate of the simulator (`{mean, low, high}`: mean and 95 % interval over replications)
 * as text; `scale` 100 for shares in %. Null when absent (the plan was not simulated).
 */
function estimate(e, scale = 1, digits = 1, unit = '') {
  if (!e || e.mean === undefined || e.mean === null) return null;
  const ci = e.low !== undefined && e.high !== undefined && e.low !== null && e.high !== null
    ? ` <small>(${fmt(scale * e.low, digits)}–${fmt(scale * e.high, digits)})</small>` : '';
  return `${fmt(scale * e.mean, digits)}${unit}${ci}`;
}

/** The mean of an estimate, scaled; null when absent. */
function mean(e, scale = 1) {
  return e && typeof e.mean === 'number' ? scale * e.mean : null;
}

/** Rows of the served-trips figures (the simulator, `plan.simulation`), when the plan carries them. */
function servedRows(plan) {
  const before = estimate((plan.city_before || {}).served_share, 100, 1, ' %');
  const after = estimate((plan.city_after || {}).served_share, 100, 1, ' %');
  if (!before && !after) {
    return '<tr><th scope="row">Trips served</th><td colspan="2">not simulated for this plan</td></tr>';
  }
  const sim = plan.simulation || {};
  const fig = (side, key) => estimate(((sim[side] || {}).figures || {})[key], 1, 0);
  const day = sim.day ? `: ${esc(sim.day)}, ${fmt(sim.replications)} runs` : '';
  // one figure per cell (served and demanded on rows of their own, each interval on a line below
  // its mean, table.kpis in app.css), so that the After column fits beside the map
  const row = (label, key) => `<tr><th scope="row">${label}</th><td>${fig('before', key) || '–'}</td><td>${fig('after', key) || '–'}</td></tr>`;
  return `<tr id="served-share"><th scope="row">Trips served <small>(simulated${day}; 95 % interval)</small></th><td>${before || '–'}</td><td>${after || '–'}</td></tr>
    ${row('Trips served per day', 'trips_served')}
    ${row('Trips demanded per day', 'trips_demanded')}
    ${row('Lost at an empty station', 'lost_empty')}`;
}

/** What a solver's status says, for people (`mobility.stats.SolverStats.status`). */
const SOLVER_STATUS = {
  optimal: 'optimal (proven)',
  gap_limit: 'stopped at the gap tolerance',
  feasible: 'feasible, not proven optimal',
  time_limit: 'stopped at the time limit',
  infeasible: 'infeasible',
  error: 'solver error',
};

/**
 * A relative gap (`|objective − bound| / max(1, |objective|)`) in %: 0 when proven, "< 0.01 %"
 * when tiny, two decimals otherwise; a dash without a bound.
 * @param {number | null | undefined} gap
 */
export function gapText(gap) {
  if (gap === null || gap === undefined || !Number.isFinite(gap)) return '– <small>(no bound)</small>';
  if (gap === 0) return '0 %';
  if (gap < 1e-4) return '&lt; 0.01 %';
  return `${(100 * gap).toLocaleString('ko-KR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`;
}

/**
 * The two solves of a plan (site selection, then docks and bikes): method, status, objective,
 * bound, gap and time, from the plan's `siting_stats` and `fleet_stats`.
 * @param {any} plan
 */
export function solverTable(plan) {
  const models = [['Site selection', plan.siting_stats], ['Docks and bikes', plan.fleet_stats]]
    .filter(([, st]) => st && typeof st === 'object');
  if (!models.length) return '';
  const method = (st) => {
    const backend = st.extra && st.extra.backend ? ` · ${esc(st.extra.backend)}` : '';
    return `${esc(st.solver)}${backend}`;
  };
  const status = (st) => `<span class="badge badge-solver-${esc(st.status)}" data-status="${esc(st.status)}">${esc(st.status)}</span>`
    + (SOLVER_STATUS[st.status] ? `<small>${esc(SOLVER_STATUS[st.status])}</small>` : '');
  const row = (id, label, f) => `<tr id="solver-${id}"><th scope="row">${label}</th>${models.map(([, st]) => `<td>${f(st)}</td>`).join('')}</tr>`;
  return `<div class="table-wrap" tabindex="0"><table class="data kpis" id="solver-table">
    <caption>Solver <small>(gap: how far the bound allows the best plan to be from this one)</small></caption>
    <thead><tr><th scope="col"><span class="visually-hidden">Figure</span></th>${models.map(([l]) => `<th scope="col">${l}</th>`).join('')}</tr></thead><tbody>
    ${row('method', 'Method', method)}
    ${row('status', 'Status', status)}
    ${row('objective', 'Objective', (st) => fmt(st.objective, 2))}
    ${row('bound', 'Bound', (st) => fmt(st.bound, 2))}
    ${row('gap', 'Gap', (st) => gapText(st.gap))}
    ${row('seconds', 'Time', (st) => `${fmt(st.seconds, 1)} s`)}
    </tbody></table></div>`;
}

/**
 * The Bikes and Bikes / 10k rows of the citywide table. A plan that does not give the city's
 * fleet before shows the fleet its simulation started from (`simulation.before.fleet`), marked
 * as derived, and that fleet per 10,000 residents.
 * @param {any} plan
 */
function fleetRows(plan) {
  const a = plan.city_before || {};
  const b = plan.city_after || {};
  const simFleet = ((plan.simulation || {}).before || {}).fleet;
  let bikes = fmt(a.bikes);
  let per10k = fmt(a.bikes_per_10k, 1);
  if ((a.bikes === null || a.bikes === undefined) && Number.isFinite(simFleet)) {
    const note = ' <small class="derived">(derived start stock)</small>';
    bikes = `${fmt(simFleet)}${note}`;
    if (a.population > 0) per10k = `${fmt((1e4 * simFleet) / a.population, 1)}${note}`;
  }
  return `<tr id="fleet-bikes"><th scope="row">Bikes</th><td>${bikes}</td><td>${fmt(b.bikes)}</td></tr>
          <tr id="fleet-per-10k"><th scope="row">Bikes / 10k residents</th><td>${per10k}</td><td>${fmt(b.bikes_per_10k, 1)}</td></tr>`;
}

/** Resolves at the map's next `idle` (everything asked for is drawn). @param {any} map */
function idle(map) {
  return new Promise((r) => map.once('idle', r));
}

/**
 * A plan: map, KPIs, district table, downloads.
 *
 * Drawn in the order a planner needs it, so the page is usable early: the map starts while the
 * plan downloads; then the tables; then the stations (clickable: `#plan-map[data-usable]`); the
 * district choropleth and the walking coverage (the largest downloads and the most triangles to
 * draw) come last (`#plan-map[data-ready]`). `window.__timings` holds the steps in ms.
 */
export async function planView(el, [id]) {
  const t0 = performance.now();
  const marks = {};
  const mark = (name) => { marks[name] = Math.round(performance.now() - t0); };
  window.__timings = marks;
  const planP = api(`${BASE}/${id}/plan`);
  el.innerHTML = `
    <h2 id="plan-title">Plan <small class="mono">${esc(id.slice(0, 12))}</small></h2>
    <div class="split plan">
      <div><div id="plan-map" class="map" role="region" aria-label="Plan map: click a station for its numbers"></div>${legend()}</div>
      <aside id="plan-aside"><p class="loading">Loading the plan…</p></aside>
    </div>`;
  const mapEl = /** @type {HTMLElement} */ (el.querySelector('#plan-map'));
  const mapP = createMap(mapEl, { early: true, mark });
  const plan = await planP;
  mark('plan');
  const a = plan.city_before || {};
  const b = plan.city_after || {};
  el.querySelector('#plan-title').innerHTML = `${esc(plan.scenario)} <small class="mono">${esc(id.slice(0, 12))}</small>`;
  el.querySelector('#plan-aside').innerHTML = `
        <div class="table-wrap" tabindex="0"><table class="data kpis"><caption>Citywide</caption><thead><tr><th scope="col"><span class="visually-hidden">Figure</span></th><th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>
          <tr><th scope="row">Stations</th><td>${fmt(a.stations)}</td><td>${fmt(b.stations)}</td></tr>
          ${fleetRows(plan)}
          <tr><th scope="row">Residents within a walk</th><td>${fmt(100 * a.covered_share, 1)} %</td><td>${fmt(100 * b.covered_share, 1)} %</td></tr>
          ${servedRows(plan)}
        </tbody></table></div>
        <p><a class="button" href="#/plans/new?from=${esc(id)}">Edit a copy</a></p>
        ${downloadList(EXPORTS)}
        ${districtTable(plan)}
        ${solverTable(plan)}`;
  wireDownloads(el, `${BASE}/${id}`, `${plan.scenario}-${id.slice(0, 8)}`);
  mark('tables');
  const map = await mapP;
  mark('map');
  fitStations(map, planStations(plan));
  await drawPlan(map, plan, {});
  window.__maps = { plan: map, plan_doc: plan }; // for the browser tests and the console
  await idle(map);
  mark('stations');
  mapEl.dataset.usable = 'true';
  // Deferred: asked for only now, so that they do not compete with the stations for the network
  // and the map's workers; given as URLs, they are downloaded and parsed by the map's workers.
  const layers = layerUrls(id);
  await drawDistricts(map, layers.districts);
  await drawCoverage(map, layers.coverage);
  mark('layers');
  await idle(map);
  mark('idle');
  mapEl.dataset.ready = 'true';
}

function kpiRows(pa, pb) {
  const rows = [
    ['New stations', (p) => (p.new_stations || []).length, 0],
    ['Stations', (p) => p.city_after && p.city_after.stations, 0],
    ['Docks', (p) => p.city_after && p.city_after.docks, 0],
    ['Bikes', (p) => p.city_after && p.city_after.bikes, 0],
    ['Bikes / 10k residents', (p) => p.city_after && p.city_after.bikes_per_10k, 1],
    ['Residents within a walk (%)', (p) => p.city_after && 100 * p.city_after.covered_share, 2],
    ['Residents newly covered', (p) => (p.new_stations || []).reduce((s, x) => s + (x.population_newly_covered || 0), 0), 0],
  ];
  return rows.map(([label, f, d]) => {
    const va = Number(f(pa));
    const vb = Number(f(pb));
    // the difference of the figures as shown (a difference that rounds to 0 is no change)
    const diff = Number(vb.toFixed(d)) - Number(va.toFixed(d));
    return `<tr><th scope="row">${esc(label)}</th><td>${fmt(va, d)}</td><td>${fmt(vb, d)}</td>
      <td class="${diff > 0 ? 'up' : diff < 0 ? 'down' : ''}">${diff > 0 ? '+' : ''}${fmt(diff, d)}</td></tr>`;
  }).join('');
}

/** How each plan's two solves ended (status and gap), beside the key figures; no difference. */
function solverRows(pa, pb) {
  const cell = (st) => (st && typeof st === 'object'
    ? `<span class="badge badge-solver-${esc(st.status)}" data-status="${esc(st.status)}">${esc(st.status)}</span> <span class="gap">gap ${gapText(st.gap)}</span>`
    : '–');
  return [['Site selection', 'siting_stats'], ['Docks and bikes', 'fleet_stats']].map(([label, key]) =>
    `<tr class="solver-row"><th scope="row">${label}: solver</th><td>${cell(pa[key])}</td><td>${cell(pb[key])}</td><td></td></tr>`).join('');
}

/** Two plans side by side: KPI table with differences, and two maps that move together. */
export async function compareView(el, _m, params) {
  const a = params.get('a');
  const b = params.get('b');
  if (!a || !b) {
    el.innerHTML = '<h2>Compare</h2><p>Tick two finished plans in the <a href="#/plans">list of plans</a> to compare them.</p>';
    return;
  }
  const [pa, pb] = await Promise.all([loadPlan(a), loadPlan(b)]);
  el.innerHTML = `
    <h2>Compare plans</h2>
    <div class="table-wrap" tabindex="0"><table class="data" id="compare-table"><caption>Key figures after each plan (B − A)</caption>
      <thead><tr><th scope="col"><span class="visually-hidden">Figure</span></th><th scope="col">A: ${esc(pa.plan.scenario)} <span class="mono">${esc(a.slice(0, 8))}</span></th>
      <th scope="col">B: ${esc(pb.plan.scenario)} <span class="mono">${esc(b.slice(0, 8))}</span></th><th scope="col">Difference</th></tr></thead>
      <tbody>${kpiRows(pa.plan, pb.plan)}${solverRows(pa.plan, pb.plan)}</tbody></table></div>
    <div class="pair">
      <figure><figcaption>A: ${esc(pa.plan.scenario)}</figcaption><div id="map-a" class="map" role="region" aria-label="Map of plan A"></div></figure>
      <figure><figcaption>B: ${esc(pb.plan.scenario)}</figcaption><div id="map-b" class="map" role="region" aria-label="Map of plan B"></div></figure>
    </div>${legend()}`;
  const [ma, mb] = await Promise.all([createMap(el.querySelector('#map-a'), { early: true }),
    createMap(el.querySelector('#map-b'), { early: true })]);
  // both maps open on the stations of both plans (then they move together)
  const both = [...planStations(pa.plan), ...planStations(pb.plan)];
  fitStations(ma, both);
  fitStations(mb, both);
  await Promise.all([drawPlan(ma, pa.plan, pa), drawPlan(mb, pb.plan, pb)]);
  await Promise.all([idle(ma), idle(mb)]);
  syncMaps(ma, mb);
  window.__maps = { a: ma, b: mb };
  el.querySelector('.pair').dataset.ready = 'true';
}


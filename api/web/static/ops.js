// Night-shift views: tonight's run (from an uploaded status CSV or a stored snapshot), its
// progress, the trucks' routes on the map, the morning-after comparison, and printable
// route sheets (one page per truck).

import { api, ApiError, esc, fmt, openApi } from './api.js';
import { buildForm } from './form.js';
import { createMap, drawRoutes } from './map.js';
import { downloadList, jobView, mapExports, wireDownloads } from './planner.js';

const BASE = '/v1/rebalancing/runs';
const EXPORTS = [
  ['routes?format=json', 'routes.json', 'Routes (JSON)'],
  ['routes?format=geojson', 'routes.geojson', 'Routes and stops (GeoJSON)'],
  ['sheets/routes_all.csv', 'routes_all.csv', 'Route sheet, all trucks (CSV)'],
  ...mapExports('routes'),
];
const STATUS_COLUMNS = ['station_id', 'name', 'lon', 'lat', 'bikes', 'docks', 'target', 'target_low', 'target_high'];
const NUMERIC = new Set(['lon', 'lat', 'bikes', 'docks', 'target', 'target_low', 'target_high']);

let stationsPromise = null;
/** The server's current station list by station_id (names, addresses, positions). */
function stationIndex() {
  if (!stationsPromise) {
    stationsPromise = api('/v1/stations').then((fc) => {
      const by = new Map();
      for (const f of fc.features) by.set(String(f.properties.station_id), { ...f.properties, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] });
      return by;
    }).catch(() => new Map());
  }
  return stationsPromise;
}

/**
 * Parse a status CSV (header row; comma separated; quotes allowed) into rows of strings.
 * @param {string} text @returns {Record<string, string>[]}
 */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      row.push(cell); cell = '';
      if (row.some((c) => c.trim() !== '')) rows.push(row);
      row = [];
    } else cell += ch;
  }
  row.push(cell);
  if (row.some((c) => c.trim() !== '')) rows.push(row);
  const header = (rows.shift() || []).map((h) => h.trim());
  return rows.map((r) => Object.fromEntries(header.map((h, k) => [h, (r[k] ?? '').trim()])));
}

/**
 * Status rows to the API's snapshot stations; missing name/position are taken from the server's
 * station list. Problems name the CSV line and column.
 * @param {Record<string, string>[]} rows @param {Map<string, any>} known
 */
export function snapshotStations(rows, known) {
  const problems = [];
  const stations = rows.map((r, i) => {
    const line = i + 2;
    const ref = known.get(r.station_id) || {};
    const s = { station_id: r.station_id };
    for (const c of STATUS_COLUMNS.slice(1)) {
      const v = r[c] !== undefined && r[c] !== '' ? r[c] : ref[c];
      if (v === undefined || v === null || v === '') continue;
      if (NUMERIC.has(c)) {
        const n = Number(v);
        if (!Number.isFinite(n)) problems.push(`line ${line}, ${c}: ${JSON.stringify(v)} is not a number`);
        s[c] = c === 'lon' || c === 'lat' ? n : Math.round(n);
      } else s[c] = String(v);
    }
    if (!r.station_id) problems.push(`line ${line}: station_id is empty`);
    return s;
  });
  return { stations, problems };
}

/** Runs and the shipped nights. */
export async function listView(el) {
  const [shipped, runs] = await Promise.all([api('/v1/web/scenarios'), api(`${BASE}?limit=50`)]);
  const nights = shipped.filter((s) => s.kind === 'rebalancing');
  el.innerHTML = `
    <h2>Night shift</h2>
    <p><a class="button primary" href="#/nights/new">Plan tonight</a>
      ${nights.map((n) => `<a class="button" href="#/nights/new?from=${encodeURIComponent(n.file)}">Tonight with the fleet of ${esc(n.name)}</a>`).join(' ')}</p>
    <table class="data"><caption>Rebalancing runs, newest first</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Submitted</th><th scope="col">Bikes moved</th><th scope="col"></th></tr></thead>
      <tbody>${runs.items.map((j) => `<tr><td>${esc(j.name)}</td><td><span class="badge badge-${esc(j.status)}">${esc(j.status)}</span></td>
        <td>${esc(new Date(j.created_at).toLocaleString())}</td><td>${fmt(j.kpis && j.kpis.bikes_moved)}</td>
        <td>${j.status === 'succeeded' ? `<a href="#/runs/${esc(j.id)}">Routes</a> · <a href="#/runs/${esc(j.id)}/sheets">Route sheets</a>` : `<a href="#/runs/${esc(j.id)}">Progress</a>`}</td></tr>`).join('')}
      </tbody></table>`;
}

/** Tonight's run: the status (CSV upload or stored snapshot) and the run's fields from the API schema. */
export async function newView(el, _m, params) {
  const [doc, snaps] = await Promise.all([openApi(), api('/v1/rebalancing/snapshots?limit=100')]);
  let value = { name: `night ${new Date().toISOString().slice(0, 10)}` };
  const from = params.get('from');
  if (from) {
    const s = (await api('/v1/web/scenarios')).find((x) => x.file === from);
    if (s) value = { ...s.body, name: value.name };
  }
  el.innerHTML = `
    <h2>Plan tonight</h2>
    <form id="night-form" class="schema-form" novalidate>
      <fieldset id="f-snapshot">
        <legend>Tonight's status</legend>
        <div class="field"><label for="status-csv">Status CSV (columns: ${STATUS_COLUMNS.join(', ')}; name and position may be left out for known stations)</label>
          <input id="status-csv" type="file" accept=".csv,text/csv" aria-describedby="f-snapshot-err"></div>
        <div class="field"><label for="f-snapshot_id">…or a stored snapshot</label>
          <select id="f-snapshot_id" aria-describedby="f-snapshot_id-err"><option value="">(none: use the CSV)</option>
          ${snaps.items.map((x) => `<option value="${esc(x.id)}">${esc(x.name)} · ${fmt(x.stations)} stations · ${esc(x.author)} · ${esc(new Date(x.created_at).toLocaleString())}</option>`).join('')}
          </select><p class="error" id="f-snapshot_id-err" aria-live="polite"></p></div>
        <p id="status-summary" aria-live="polite"></p>
        <p class="error" id="f-snapshot-err" aria-live="polite"></p>
      </fieldset>
      <div id="run-fields"></div>
      <div class="actions"><button type="submit" class="primary" id="submit-night">Submit tonight's run</button></div>
    </form>`;
  const form = buildForm(el.querySelector('#run-fields'), doc.components.schemas.RebalancingRunRequest, doc, value,
    { skip: ['snapshot', 'snapshot_id'] });
  let stations = null;
  const fileInput = /** @type {HTMLInputElement} */ (el.querySelector('#status-csv'));
  const snapErr = el.querySelector('#f-snapshot-err');
  fileInput.addEventListener('change', async () => {
    snapErr.textContent = '';
    stations = null;
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    const { stations: st, problems } = snapshotStations(parseCsv(await file.text()), await stationIndex());
    if (problems.length) {
      snapErr.textContent = problems.slice(0, 5).join('; ');
      return;
    }
    stations = st;
    el.querySelector('#status-summary').textContent = `${file.name}: ${st.length} stations, ${st.reduce((s, x) => s + (x.bikes || 0), 0)} bikes`;
  });
  el.querySelector('#night-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = form.read();
    if (!body) return;
    const sid = /** @type {HTMLSelectElement} */ (el.querySelector('#f-snapshot_id')).value;
    if (sid) body.snapshot_id = sid;
    else if (stations) body.snapshot = { name: fileInput.files[0].name, stations };
    try {
      const acc = await api(BASE, { method: 'POST', body });
      location.hash = `#/runs/${acc.id}`;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      form.showErrors(e.body);
      // errors about the snapshot go beside the status inputs
      for (const err of e.body.errors || []) {
        const f = String(err.field || '');
        if (f.includes('snapshot') || (e.status === 404 && sid)) {
          const m = f.match(/stations\.(\d+)\.?(.*)/);
          const where = m ? `CSV line ${Number(m[1]) + 2}${m[2] ? `, ${m[2]}` : ''}` : f.replace(/^body\./, '');
          const slot = f.includes('snapshot_id') ? el.querySelector('#f-snapshot_id-err') : snapErr;
          slot.textContent += `${slot.textContent ? '; ' : ''}${where}: ${err.problem}`;
        }
      }
      if (e.status === 404) el.querySelector('#f-snapshot_id-err').textContent = e.message;
    }
  });
}

/** A run: progress while it works; then the routes on the map and the morning-after comparison. */
export async function runView(el, [id], params, alive) {
  const info = await api(`${BASE}/${id}`);
  if (info.status !== 'succeeded') {
    await jobView(el, [id], params, alive, BASE, `#/runs/${id}`);
    if (!alive() || !el.querySelector('#open-result')) return;
    location.hash = `#/runs/${id}?done=1`;
    return;
  }
  const routes = await api(`${BASE}/${id}/routes`);
  const t = routes.totals;
  const used = routes.routes.filter((r) => r.stops.length);
  el.innerHTML = `
    <h2>${esc(info.name)} <small class="mono">${esc(id.slice(0, 12))}</small></h2>
    <div class="split plan">
      <div id="route-map" class="map" role="region" aria-label="Truck routes: click a stop for its numbers"></div>
      <aside>
        <p><a class="button primary" id="open-sheets" href="#/runs/${esc(id)}/sheets">Route sheets for printing</a></p>
        <table class="data" id="morning-after"><caption>The morning after: stations expected empty or full</caption>
          <thead><tr><th scope="col"></th><th scope="col">Without the trucks</th><th scope="col">After tonight's routes</th></tr></thead>
          <tbody><tr><th scope="row">Empty</th><td>${fmt(t.stations_empty_before)}</td><td>${fmt(t.stations_empty_after)}</td></tr>
          <tr><th scope="row">Full</th><td>${fmt(t.stations_full_before)}</td><td>${fmt(t.stations_full_after)}</td></tr>
          <tr><th scope="row">Expected dissatisfied customers</th><td>${fmt(t.dissatisfaction_before, 1)}</td><td>${fmt(t.dissatisfaction_after, 1)}</td></tr></tbody></table>
        <p>${fmt(t.bikes_moved)} bikes moved by ${fmt(t.trucks_used)} trucks over ${fmt(t.km, 1)} km.</p>
        ${routes.still_empty.length ? `<p>Still expected empty: ${routes.still_empty.map(esc).join(', ')}</p>` : ''}
        ${routes.still_full.length ? `<p>Still expected full: ${routes.still_full.map(esc).join(', ')}</p>` : ''}
        ${downloadList(EXPORTS)}
        <h3>Trucks</h3>
        ${used.map((r) => `<details><summary>${esc(r.truck_id)}: ${r.stops.length} stops, +${r.picked_up} / −${r.dropped}</summary><ol>
          ${r.stops.map((s) => `<li>${esc(s.arrival)} ${esc(s.name || s.station_id)}: ${s.quantity > 0 ? `싣기 pick up ${s.quantity}` : `내리기 drop ${-s.quantity}`}</li>`).join('')}</ol></details>`).join('')}
      </aside>
    </div>`;
  wireDownloads(el, `${BASE}/${id}`, `night-${id.slice(0, 8)}`);
  const map = await createMap(el.querySelector('#route-map'));
  await drawRoutes(map, routes);
  el.querySelector('#route-map').dataset.ready = 'true';
}

/** One printable sheet per truck: Korean names, big type, address and quantity. */
export async function sheetsView(el, [id]) {
  const [info, routes, known] = await Promise.all([api(`${BASE}/${id}`), api(`${BASE}/${id}/routes`), stationIndex()]);
  const used = routes.routes.filter((r) => r.stops.length);
  el.innerHTML = `
    <div class="no-print"><h2>Route sheets: ${esc(info.name)}</h2>
      <p><button type="button" class="primary" id="print-sheets">Print</button> one page per truck.
      <a href="#/runs/${esc(id)}">Back to the map</a></p></div>
    ${used.map((r) => `
    <article class="sheet" aria-label="Route sheet ${esc(r.truck_id)}">
      <h2>트럭 ${esc(r.truck_id)} <small>(${esc(r.depot_id)} · ${esc(r.start)}–${esc(r.end)} · ${esc(info.name)})</small></h2>
      <p class="sheet-sum">싣기 (pick up) ${r.picked_up} · 내리기 (drop off) ${r.dropped} · ${fmt(r.distance_km, 1)} km · 출발 적재 (start load) ${r.start_load}</p>
      <table class="sheet-table"><thead><tr><th scope="col">#</th><th scope="col">도착 (arrive)</th><th scope="col">대여소 (station) / 주소 (address)</th>
        <th scope="col">작업 (task)</th><th scope="col">수량 (bikes)</th><th scope="col">적재 (load after)</th><th scope="col">✓</th></tr></thead>
      <tbody>${r.stops.map((s) => {
        const k = known.get(String(s.station_id)) || {};
        return `<tr><td>${s.seq}</td><td>${esc(s.arrival)}</td>
          <td><strong>${esc(k.number ? `${k.number}. ` : '')}${esc(s.name || k.name || s.station_id)}</strong><br><span class="addr">${esc(k.address || '')}</span></td>
          <td>${s.quantity > 0 ? '싣기 pick up' : '내리기 drop off'}</td><td class="qty">${Math.abs(s.quantity)}</td><td>${s.load_after}</td><td class="tick"></td></tr>`;
      }).join('')}</tbody></table>
    </article>`).join('')}`;
  el.querySelector('#print-sheets').addEventListener('click', () => window.print());
  el.dataset.ready = 'true';
}

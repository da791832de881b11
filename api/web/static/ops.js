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

let stationsPromise = null;
/** The server's current station list by station_id (numbers and addresses for the route sheets). */
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

/**
 * Store a status CSV as a snapshot (POST /v1/rebalancing/snapshots/csv: the server reads it); show
 * its stations and bikes, or the API's message (station, field, value) beside the file input.
 * @param {File} file @param {Element} errSlot @param {Element} summary
 * @returns {Promise<string | null>} the snapshot's id, or null when the server refused the file
 */
async function uploadStatus(file, errSlot, summary) {
  const say = (/** @type {string} */ text) => { summary.textContent = text; summary.toggleAttribute('hidden', !text); };
  say(`${file.name}: reading…`);
  try {
    const info = await api(`/v1/rebalancing/snapshots/csv?name=${encodeURIComponent(file.name)}`,
      { method: 'POST', body: file.slice(0, file.size, 'text/csv') });
    say(`${file.name}: ${fmt(info.stations)} stations, ${fmt(info.bikes)} bikes`);
    return info.id;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    say('');
    errSlot.textContent = `${file.name}: ${e.message}`;
    return null;
  }
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
        <div class="field"><label for="status-csv">Status CSV (columns: ${STATUS_COLUMNS.join(', ')}; name, position and docks may be left out for stations of the station list)</label>
          <input id="status-csv" type="file" accept=".csv,text/csv" aria-describedby="f-snapshot-err status-summary">
          <p id="status-summary" aria-live="polite" hidden></p>
          <p class="error" id="f-snapshot-err" aria-live="polite"></p></div>
        <div class="field"><label for="f-snapshot_id">…or a stored snapshot</label>
          <select id="f-snapshot_id" aria-describedby="f-snapshot_id-err"><option value="">(none: use the CSV)</option>
          ${snaps.items.map((x) => `<option value="${esc(x.id)}">${esc(x.name)} · ${fmt(x.stations)} stations · ${esc(x.author)} · ${esc(new Date(x.created_at).toLocaleString())}</option>`).join('')}
          </select><p class="error" id="f-snapshot_id-err" aria-live="polite"></p></div>
      </fieldset>
      <div id="run-fields"></div>
      <div class="actions"><button type="submit" class="primary" id="submit-night">Submit tonight's run</button></div>
    </form>`;
  const form = buildForm(el.querySelector('#run-fields'), doc.components.schemas.RebalancingRunRequest, doc, value,
    { skip: ['snapshot', 'snapshot_id'] });
  // The CSV is read by the server (the library's reader, the station list filling what is left
  // out): the file's bytes are stored as a snapshot, and the run is submitted by its id.
  /** @type {Promise<string | null> | null} */
  let uploaded = null;
  const fileInput = /** @type {HTMLInputElement} */ (el.querySelector('#status-csv'));
  const snapErr = el.querySelector('#f-snapshot-err');
  const summary = el.querySelector('#status-summary');
  fileInput.addEventListener('change', () => {
    snapErr.textContent = '';
    summary.textContent = '';
    summary.toggleAttribute('hidden', true);
    const file = fileInput.files && fileInput.files[0];
    uploaded = file ? uploadStatus(file, snapErr, summary) : null;
  });
  el.querySelector('#night-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = form.read();
    if (!body) return;
    const sid = /** @type {HTMLSelectElement} */ (el.querySelector('#f-snapshot_id')).value;
    const csvId = sid ? null : await uploaded;
    if (sid || csvId) body.snapshot_id = sid || csvId;
    else if (uploaded) return; // the CSV was refused: its message is beside the file input
    try {
      const acc = await api(BASE, { method: 'POST', body });
      location.hash = `#/runs/${acc.id}`;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      form.showErrors(e.body);
      // errors about the snapshot go beside the status inputs
      for (const err of e.body.errors || []) {
        const f = String(err.field || '');
        if (f.includes('snapshot')) {
          const slot = f.includes('snapshot_id') ? el.querySelector('#f-snapshot_id-err') : snapErr;
          slot.textContent += `${slot.textContent ? '; ' : ''}${f.replace(/^body\./, '')}: ${err.problem}`;
        }
      }
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

// Night-shift views: tonight's run (from an uploaded status CSV or a stored snapshot), its
// progress, the trucks' routes on the map, the morning-after comparison, and printable
// route sheets (one page per truck).

import { api, ApiError, esc, fmt, openApi } from './api.js';
import { buildForm } from './form.js';
import { createMap, drawRoutes, routesLegend, signedQuantity, stopAction } from './map.js';
import { downloadList, jobView, mapExports, wireDownloads } from './planner.js';

const BASE = '/v1/rebalancing/runs';
const EXPORTS = [
  ['routes?format=json', 'routes.json', 'Routes (JSON)'],
  ['routes?format=geojson', 'routes.geojson', 'Routes and stops (GeoJSON)'],
  ['sheets/routes_all.csv', 'routes_all.csv', 'Route sheet, all trucks (CSV)'],
  ...mapExports('routes'),
];
const STATUS_COLUMNS = ['station_id or number', 'bikes', 'name', 'lon', 'lat', 'docks', 'target', 'target_low', 'target_high', 'date'];

/**
 * The ids a route plan may name a station of the station list by: its ST id, and `N<number>`, the
 * id of a station the list gives no ST id (StationStatus.key, mobility.rebalancing.snapshot).
 * @param {{station_id?: string | null, number?: number | null}} p
 * @returns {string[]}
 */
function stationKeys(p) {
  const keys = p.station_id ? [String(p.station_id)] : [];
  if (Number.isInteger(p.number)) keys.push(`N${p.number}`);
  return keys;
}

let stationsPromise = null;
/** The server's current station list by the ids of the route plans (numbers and addresses for the route sheets). */
function stationIndex() {
  if (!stationsPromise) {
    stationsPromise = api('/v1/stations').then((fc) => {
      const by = new Map();
      for (const f of fc.features) {
        const station = { ...f.properties, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] };
        for (const k of stationKeys(f.properties)) by.set(k, station);
      }
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
    <div class="table-wrap" tabindex="0"><table class="data" id="runs-table"><caption>Rebalancing runs, newest first
      (a run's name opens its routes, or its progress)</caption>
      <thead><tr><th scope="col">Name <small>(run id)</small></th><th scope="col">Status</th><th scope="col">Submitted</th><th scope="col">Bikes moved</th><th scope="col"><span class="visually-hidden">Links</span></th></tr></thead>
      <tbody>${runs.items.map((j) => `<tr><td class="text"><a href="#/runs/${esc(j.id)}">${esc(j.name)}</a>
        <small class="mono run-id">${esc(j.id.slice(0, 12))}</small></td><td><span class="badge badge-${esc(j.status)}">${esc(j.status)}</span></td>
        <td>${esc(new Date(j.created_at).toLocaleString())}</td><td>${fmt(j.kpis && j.kpis.bikes_moved)}</td>
        <td>${j.status === 'succeeded' ? `<a href="#/runs/${esc(j.id)}/sheets">Route sheets</a>` : ''}</td></tr>`).join('')}
      </tbody></table></div>`;
}

/**
 * Store a status CSV as a snapshot (POST /v1/rebalancing/snapshots/csv: the server reads it); show
 * its stations and bikes and the server's notes, or the API's message (station, field, value)
 * beside the file input.
 * @param {File} file @param {Element} errSlot @param {Element} summary
 * @returns {Promise<string | null>} the snapshot's id, or null when the server refused the file
 */
async function uploadStatus(file, errSlot, summary) {
  const say = (/** @type {string} */ text) => { summary.textContent = text; summary.toggleAttribute('hidden', !text); };
  say(`${file.name}: reading…`);
  try {
    const info = await api(`/v1/rebalancing/snapshots/csv?name=${encodeURIComponent(file.name)}`,
      { method: 'POST', body: file.slice(0, file.size, 'text/csv') });
    // the server's notes (e.g. more bikes than a station's docks can hold): kept, and said here
    const notes = (info.notes || []).map((/** @type {string} */ n) => `note: ${n}`);
    say([`${file.name}: ${fmt(info.stations)} stations, ${fmt(info.bikes)} bikes`, ...notes].join('\n'));
    return info.id;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    say('');
    errSlot.textContent = `${file.name}: ${e.message}`;
    return null;
  }
}

/**
 * The calendar date in Seoul (YYYY-MM-DD) at `when`: the evening of tonight's night.
 * @param {Date} when
 */
export function seoulDate(when) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Seoul', year: 'numeric', month: '2-digit', day: '2-digit' }).format(when);
}

/** Tonight's run: the status (CSV upload or stored snapshot) and the run's fields from the API schema. */
export async function newView(el, _m, params) {
  const [doc, snaps] = await Promise.all([openApi(), api('/v1/rebalancing/snapshots?limit=100')]);
  // The night is the status's own date (a snapshot's `date`, a CSV's `date` column): the demand
  // curves the trucks aim at are for the morning after it, and so is the simulated morning. A
  // status of the live system has no date of its own: then tonight's (Seoul's date), as without
  // a night the run would aim at 25-75 % of the docks. Until a status is chosen: tonight.
  const tonight = seoulDate(new Date());
  let value = { name: `night ${tonight}`, night: tonight };
  const from = params.get('from');
  if (from) {
    const s = (await api('/v1/web/scenarios')).find((x) => x.file === from);
    if (s) value = { ...s.body, name: value.name, night: tonight };
  }
  el.innerHTML = `
    <h2>Plan tonight</h2>
    <form id="night-form" class="schema-form" novalidate>
      <fieldset id="f-snapshot">
        <legend>Tonight's status</legend>
        <div class="field"><label for="status-csv">Status CSV (columns: ${STATUS_COLUMNS.join(', ')}; name, position and docks may be left out for stations of the station list; the night is the file's date unless typed below)</label>
          <input id="status-csv" type="file" accept=".csv,text/csv" aria-describedby="f-snapshot-err status-summary">
          <p id="status-summary" aria-live="polite" hidden></p>
          <p class="error" id="f-snapshot-err" aria-live="polite"></p></div>
        <div class="field"><label for="f-snapshot_id">…or a stored snapshot</label>
          <select id="f-snapshot_id" aria-describedby="f-snapshot_id-err"><option value="">(none: use the CSV)</option>
          ${snaps.items.map((x) => `<option value="${esc(x.id)}">${esc(x.name)} · ${fmt(x.stations)} stations · ${esc(x.author)} · ${esc(new Date(x.created_at).toLocaleString())}</option>`).join('')}
          </select><p class="error" id="f-snapshot_id-err" aria-live="polite"></p></div>
      </fieldset>
      <div id="run-fields"></div>
      <div class="field" id="simulate-morning-field"><label for="simulate-morning"><input id="simulate-morning" type="checkbox">
        Simulate the morning after with this run (how many mornings and which night: below)</label></div>
      <div class="actions"><button type="submit" class="primary" id="submit-night">Submit tonight's run</button></div>
    </form>`;
  const form = buildForm(el.querySelector('#run-fields'), doc.components.schemas.RebalancingRunRequest, doc, value,
    { skip: ['snapshot', 'snapshot_id'] });
  const night = nightField(el, tonight);
  // The tick box heads the fields it switches on (the Morning after section), not below them.
  const morningSet = el.querySelector('#f-morning_after');
  const tick = el.querySelector('#simulate-morning-field');
  if (morningSet && tick) morningSet.insertBefore(tick, morningSet.querySelector('.field'));
  // The CSV is read by the server (the library's reader, the station list filling what is left
  // out): the file's bytes are stored as a snapshot, and the run is submitted by its id.
  /** @type {Promise<string | null> | null} */
  let uploaded = null;
  const fileInput = /** @type {HTMLInputElement} */ (el.querySelector('#status-csv'));
  const snapErr = el.querySelector('#f-snapshot-err');
  const summary = el.querySelector('#status-summary');
  const select = /** @type {HTMLSelectElement} */ (el.querySelector('#f-snapshot_id'));
  // the status the run takes: the stored snapshot picked, else the CSV; the night follows its date
  const statusChanged = () => night.follow(select.value || uploaded);
  fileInput.addEventListener('change', () => {
    snapErr.textContent = '';
    summary.textContent = '';
    summary.toggleAttribute('hidden', true);
    const file = fileInput.files && fileInput.files[0];
    uploaded = file ? uploadStatus(file, snapErr, summary) : null;
    statusChanged();
  });
  select.addEventListener('change', statusChanged);
  // A refused (or missing) status: its field and message are brought into view, the file input
  // focused, however far down the form Submit was pressed.
  const showStatus = () => {
    fileInput.closest('.field').scrollIntoView({ block: 'center' });
    fileInput.focus({ preventScroll: true });
  };
  el.querySelector('#night-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const statusDate = await night.settled(); // the Night field has followed the chosen status
    const body = form.read();
    if (!body) return;
    if (/** @type {HTMLInputElement} */ (el.querySelector('#simulate-morning')).checked) body.morning_after ??= {};
    else delete body.morning_after;
    // the night the status says is the API's own default: left to it (RebalancingRunRequest.night)
    if (statusDate && body.night === statusDate) delete body.night;
    const sid = select.value;
    if (!sid && !uploaded) { // checked here: the API's answer would name its own fields, not this form's
      snapErr.textContent = "Choose tonight's status CSV or a stored snapshot";
      showStatus();
      return;
    }
    const csvId = sid ? null : await uploaded;
    if (sid || csvId) body.snapshot_id = sid || csvId;
    else if (uploaded) { // the CSV was refused: its message is beside the file input
      showStatus();
      return;
    }
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

/** @type {Map<string, Promise<string | null>>} */
const snapshotDates = new Map();
/**
 * The date a stored snapshot was counted on (its `date`, YYYY-MM-DD), or null when it has none.
 * @param {string} id
 */
function snapshotDate(id) {
  if (!snapshotDates.has(id)) {
    snapshotDates.set(id, api(`/v1/rebalancing/snapshots/${encodeURIComponent(id)}`)
      .then((d) => (d.date ? String(d.date) : null)));
  }
  return snapshotDates.get(id);
}

/**
 * The form's Night field (`#f-night`), kept to the chosen status's own date: filled with it (or
 * with tonight, Seoul's date, for a status without one) unless the user typed a night, and a
 * note beside it saying where the night comes from, or that a typed night differs from the
 * status's date.
 * @param {Element} el the view @param {string} tonight
 * @returns {{follow: (status: string | Promise<string | null> | null) => void, settled: () => Promise<string | null | undefined>}}
 *   `follow` a stored snapshot's id, an upload's (a promise of its id, null when refused) or
 *   none; `settled` the status's date once the field has followed it (null: the status has
 *   none; undefined: no status, or its date could not be read)
 */
function nightField(el, tonight) {
  const input = /** @type {HTMLInputElement | null} */ (el.querySelector('#f-night'));
  const note = document.createElement('p');
  note.id = 'night-note';
  note.setAttribute('aria-live', 'polite');
  note.hidden = true;
  if (input) {
    input.before(note); // above the field: read before it, and never under the sticky Submit bar
    input.setAttribute('aria-describedby', `${input.getAttribute('aria-describedby') || ''} night-note`.trim());
  }
  let filled = input ? input.value : ''; // what the form put in (not typed)
  /** @type {string | null | undefined} */
  let date;
  /** @type {Promise<string | null | undefined>} */
  let pending = Promise.resolve(undefined);
  let asked = 0;
  const say = () => {
    const typed = input ? input.value.trim() : '';
    let text = '';
    let warn = false;
    if (date && typed && typed !== date) {
      text = `The run's night, ${typed}, differs from the status's date, ${date}: the run plans the morning after ${typed}.`;
      warn = true;
    } else if (date && typed === date) text = `The status's own date (${date}).`;
    else if (date === null && typed) text = `The status has no date: the run plans the night of ${typed}${typed === tonight ? ' (tonight, Seoul)' : ''}.`;
    note.textContent = text;
    note.className = warn ? 'note-warn' : 'hint';
    note.hidden = !text;
    // a longer note pushes the field being typed in down: kept clear of the sticky Submit bar
    if (input && document.activeElement === input) input.scrollIntoView({ block: 'nearest' });
  };
  input?.addEventListener('input', say);
  return {
    follow(status) {
      const mine = ++asked;
      const id = status && typeof status !== 'string' ? status : Promise.resolve(status);
      pending = id.then((x) => (x ? snapshotDate(x) : undefined)).catch(() => undefined).then((d) => {
        if (mine !== asked) return date; // another status was chosen since
        date = d;
        // not typed (empty, or as the form filled it): the status's date; without one, tonight
        if (input && (input.value.trim() === '' || input.value.trim() === filled)) input.value = filled = d || tonight;
        say();
        return d;
      });
    },
    settled: () => pending.then(() => date),
  };
}

/** A run: progress while it works; then the routes on the map and the morning-after comparison. */
export async function runView(el, [id], params, alive) {
  const info = await api(`${BASE}/${id}`);
  if (info.status !== 'succeeded') {
    // the solve moves the bar with the share of its time limit spent (api/runners.py solving_clock)
    await jobView(el, [id], params, alive, BASE, `#/runs/${id}`);
    if (!alive() || !el.querySelector('#open-result')) return;
    location.hash = `#/runs/${id}?done=1`;
    return;
  }
  const simulated = info.kpis && info.kpis.morning_after;
  const [routes, morning, known] = await Promise.all([
    api(`${BASE}/${id}/routes`),
    simulated ? api(`${BASE}/${id}/morning`).catch(() => null) : null,
    stationIndex(),
  ]);
  const t = routes.totals;
  const used = routes.routes.filter((r) => r.stops.length);
  const words = bandWords(routes.meta);
  const named = stationNamer(routes, known);
  const atRisk = (/** @type {string} */ rowId, /** @type {string} */ what, /** @type {string[]} */ ids) => (ids.length
    ? `<p id="${rowId}">${esc(what)}: ${ids.map(named).join(', ')}</p>` : '');
  el.innerHTML = `
    <h2>${esc(info.name)} <small class="mono">${esc(id.slice(0, 12))}</small></h2>
    <div class="split plan">
      <div><div id="route-map" class="map" role="region" aria-label="Truck routes: click a stop for its numbers"></div>
        <div id="route-legend"></div></div>
      <aside>
        <p><a class="button primary" id="open-sheets" href="#/runs/${esc(id)}/sheets">Route sheets for printing</a></p>
        <div class="table-wrap" tabindex="0"><table class="data" id="morning-after"><caption>${words.caption}</caption>
          <thead><tr><th scope="col"><span class="visually-hidden">Figure</span></th><th scope="col">Without the trucks</th><th scope="col">After tonight's routes</th></tr></thead>
          <tbody><tr id="below-band"><th scope="row">${words.below}</th><td>${fmt(t.stations_empty_before)}</td><td>${fmt(t.stations_empty_after)}</td></tr>
          <tr id="above-band"><th scope="row">${words.above}</th><td>${fmt(t.stations_full_before)}</td><td>${fmt(t.stations_full_after)}</td></tr>
          <tr id="outside-band"><th scope="row">${words.outside}</th><td>${fmt(t.dissatisfaction_before, 1)}</td><td>${fmt(t.dissatisfaction_after, 1)}</td></tr></tbody></table></div>
        ${morningTable(simulated)}${morningDay(morning)}
        ${(info.notes || []).map((n) => `<p class="hint run-note">${esc(n)}</p>`).join('')}
        <p id="moved">${fmt(t.bikes_moved)} ${plural(t.bikes_moved, 'bike', 'bikes')} moved by ${fmt(t.trucks_used)} ${plural(t.trucks_used, 'truck', 'trucks')} over ${fmt(t.km, 1)} km.</p>
        ${atRisk('still-empty', `Still ${words.stillBelow}`, routes.still_empty)}
        ${atRisk('still-full', `Still ${words.stillAbove}`, routes.still_full)}
        ${downloadList(EXPORTS)}
        <h3>Trucks</h3>
        ${used.map((r) => `<details><summary>${esc(r.truck_id)}: ${r.stops.length} ${plural(r.stops.length, 'stop', 'stops')}, 수거 ${signedQuantity(r.picked_up)} / 배치 ${signedQuantity(-r.dropped)}</summary><ol>
          ${r.stops.map((s) => `<li>${esc(s.arrival)} ${esc(s.name || s.station_id)}: ${stopAction(s.quantity)} ${signedQuantity(s.quantity)}</li>`).join('')}</ol></details>`).join('')}
      </aside>
    </div>`;
  wireDownloads(el, `${BASE}/${id}`, `night-${id.slice(0, 8)}`);
  const map = await createMap(el.querySelector('#route-map'));
  el.querySelector('#route-legend').innerHTML = await routesLegend(routes);
  await drawRoutes(map, routes);
  window.__maps = { routes: map }; // for the browser tests and the console
  el.querySelector('#route-map').dataset.ready = 'true';
}

/**
 * The words of the morning-after table for what the run aimed at (routes.json's `meta.targets`,
 * set by api/runners.py station_curves): `demand`, the demand model's curves, whose
 * dissatisfaction is the riders expected to find their station empty or full; else (`snapshot`,
 * or a run stored before `meta.targets` was written) each station's target band, whose
 * dissatisfaction is the bikes outside it. The figures are the same fields of `totals` either way.
 * @param {Record<string, any> | undefined} meta
 * @returns {{caption: string, below: string, above: string, outside: string, stillBelow: string, stillAbove: string}}
 */
function bandWords(meta) {
  if (meta && meta.targets === 'demand') {
    const day = meta.day_type ? `the ${esc(meta.day_type)} morning after the night` : 'the morning after the night';
    return {
      caption: `The morning after, by the demand model's curves for ${day}: a station's band is the
        stocks at which its expected unhappy riders are near their fewest; a station without a curve keeps its target band`,
      below: 'Stations below their band <small>(expected to run empty)</small>',
      above: 'Stations above their band <small>(expected to run full)</small>',
      outside: 'Expected unhappy riders <small>(finding their station empty or full)</small>',
      stillBelow: 'below their band (expected to run empty)',
      stillAbove: 'above their band (expected to run full)',
    };
  }
  return {
    caption: `The morning after: stations outside their target band
      (the status's target, or 25–75 % of the docks where it gives none)`,
    below: 'Stations below their target band',
    above: 'Stations above their target band',
    outside: 'Bikes outside the target bands',
    stillBelow: 'below their target band',
    stillAbove: 'above their target band',
  };
}

/**
 * A station of the route plan (its ST id, or `N<number>`) as people know it: its number and name
 * from the server's station list, else its name as a stop of the routes, else the id.
 * @param {any} routes the routes.json document @param {Map<string, any>} known stationIndex()
 * @returns {(id: string) => string} HTML
 */
function stationNamer(routes, known) {
  const stopNames = new Map();
  for (const r of routes.routes) for (const s of r.stops) if (s.name) stopNames.set(String(s.station_id), s.name);
  return (id) => {
    const k = known.get(String(id)) || {};
    const name = k.name || stopNames.get(String(id));
    if (!name) return esc(id);
    return `<span title="${esc(id)}">${esc(Number.isInteger(k.number) ? `${k.number}. ` : '')}${esc(name)}</span>`;
  };
}

const METHOD_NAMES = { 'no rebalancing': 'No trucks', 'greedy dispatcher': 'Greedy dispatcher', ours: "Tonight's routes" };

/**
 * The simulated morning after (the run's `kpis.morning_after`, one row per method of
 * `morning.json`), or nothing when the run was not asked for it.
 * @param {Record<string, any> | undefined} rows
 */
function morningTable(rows) {
  if (!rows) return '';
  const body = Object.values(rows).map((r) => `<tr><th scope="row">${esc(METHOD_NAMES[r.method] || r.method)}</th>
    <td>${fmt(r.bikes_moved)}</td><td>${fmt(r.lost_empty, 1)} <small>(${fmt(r.lost_empty_low, 1)}–${fmt(r.lost_empty_high, 1)})</small></td>
    <td>${fmt(r.full_arrivals, 1)}</td></tr>`).join('');
  return `<div class="table-wrap" tabindex="0"><table class="data" id="simulated-morning"><caption>The morning after, simulated:
    riders until 10:00 (mean of the simulated mornings; riders lost: 95 % interval)</caption>
    <thead><tr><th scope="col">Trucks</th><th scope="col">Bikes moved</th><th scope="col">Lost at empty stations</th>
    <th scope="col">Finding full docks</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * Which morning the simulated table is about (`morning.json`: its day, day type and
 * replications), or nothing when the run has no `morning.json`. A morning past the demand data
 * (`forecast_from` set) says that its rates are a forecast.
 * @param {{day: string, day_type: string, replications: number, seed: number, forecast_from?: string | null} | null} doc
 */
function morningDay(doc) {
  if (!doc || !doc.day) return '';
  const weekday = WEEKDAYS[new Date(`${doc.day}T00:00:00Z`).getUTCDay()] || '';
  const forecast = doc.forecast_from
    ? ` A forecast: the demand data stops before ${esc(doc.forecast_from)}; its level, trend and district shares are carried to this day.`
    : '';
  return `<p class="hint" id="simulated-day">Simulated: the morning of ${esc(weekday)} ${esc(doc.day)}
    (${esc(doc.day_type)} rates), ${fmt(doc.replications)} ${plural(doc.replications, 'morning', 'mornings')} per method, seed ${fmt(doc.seed)}.${forecast}</p>`;
}

/** One printable sheet per truck: Korean names, big type, address and quantity. */
export async function sheetsView(el, [id]) {
  const [info, routes, known] = await Promise.all([api(`${BASE}/${id}`), api(`${BASE}/${id}/routes`), stationIndex()]);
  const used = routes.routes.filter((r) => r.stops.length);
  const depots = new Map((routes.depots || []).map((d) => [d.id, d]));
  el.innerHTML = `
    <div class="no-print"><h2>Route sheets: ${esc(info.name)}</h2>
      <p><button type="button" class="primary" id="print-sheets">Print</button> (each truck starts on a new page).
      <a href="#/runs/${esc(id)}">Back to the map</a></p></div>
    ${used.map((r) => `
    <article class="sheet" aria-label="Route sheet ${esc(r.truck_id)}">
      <h2>트럭 ${esc(r.truck_id)} <small>(${esc(r.depot_id)} · ${esc(r.start)}–${esc(r.end)} · ${esc(info.name)})</small></h2>
      <p class="sheet-sum">수거 (pick up) ${r.picked_up} · 배치 (drop off) ${r.dropped} · ${fmt(r.distance_km, 1)} km · 출발 적재 (start load) ${r.start_load}</p>
      <div class="table-wrap" tabindex="0"><table class="sheet-table">
      <colgroup><col class="c-seq"><col class="c-time"><col class="c-station"><col class="c-task"><col class="c-qty"><col class="c-load"><col class="c-tick"></colgroup>
      <thead><tr class="sheet-run"><th colspan="7" scope="colgroup">트럭 ${esc(r.truck_id)} · ${esc(r.depot_id)} · ${esc(r.start)}–${esc(r.end)} · ${esc(info.name)}</th></tr>
        <tr><th scope="col">#</th><th scope="col">도착 <span class="en">(arrive)</span></th><th scope="col">대여소 (station) / 주소 (address)</th>
        <th scope="col">작업 <span class="en">(task)</span></th><th scope="col">수량 <span class="en">(bikes)</span></th><th scope="col">적재 <span class="en">(load after)</span></th><th scope="col">✓</th></tr></thead>
      <tbody>${r.stops.map((s) => {
        // the stop's own number and address (routes.json since 09107a5), else the station list's
        const k = known.get(String(s.station_id)) || {};
        const number = s.number ?? k.number;
        const address = s.address ?? k.address;
        return `<tr><td>${s.seq}</td><td>${esc(s.arrival)}</td>
          <td><strong>${esc(number ? `${number}. ` : '')}${esc(s.name || k.name || s.station_id)}</strong><br><span class="addr">${esc(address || '')}</span></td>
          <td class="task">${taskWords(stopAction(s.quantity))}</td><td class="qty">${Math.abs(s.quantity)}</td><td>${s.load_after}</td><td class="tick"></td></tr>`;
      }).join('')}
      ${returnRow(r, depots.get(r.depot_id))}</tbody></table></div>
    </article>`).join('')}`;
  el.querySelector('#print-sheets').addEventListener('click', () => window.print());
  el.dataset.ready = 'true';
}

/**
 * The last row of a truck's sheet: back at the depot, unloading the bikes left on the truck (the
 * "end 복귀" row of the CSV route sheet, mobility.export.routes).
 * @param {any} r the truck's route @param {any} [depot] its depot ({id, name, lon, lat})
 */
function returnRow(r, depot) {
  const name = depot ? depot.name || depot.id : r.depot_id;
  const unload = r.end_load > 0 ? ' · 하차 unload' : '';
  return `<tr class="depot-return"><td>${r.stops.length + 1}</td><td>${esc(r.end)}</td>
    <td><strong>차고지 (depot) ${esc(name)}</strong>${depot && depot.name && depot.name !== depot.id ? ` <span class="addr">${esc(depot.id)}</span>` : ''}</td>
    <td class="task">${taskWords(`복귀 return${unload}`)}</td><td class="qty">${r.end_load}</td><td>0</td><td class="tick"></td></tr>`;
}

/**
 * A task as its Korean word and its English gloss ("수거 pick up" → 수거 and <span class="en">pick up</span>),
 * so that print can set the gloss on a line of its own; on screen the words read as before.
 * @param {string} task
 */
function taskWords(task) {
  const cut = task.indexOf(' ');
  return cut < 0 ? esc(task) : `${esc(task.slice(0, cut))} <span class="en">${esc(task.slice(cut + 1))}</span>`;
}

/** `one` for 1, else `many`. @param {number} n @param {string} one @param {string} many */
function plural(n, one, many) {
  return Number(n) === 1 ? one : many;
}

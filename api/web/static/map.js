// MapLibre maps over the offline basemap (/web/style.json, tiles from this server), and the
// data layers of plans and nights. Colours come from the style's metadata, which carries the
// colours of the static and HTML maps (mobility.export.style).

import { apiKey, esc, fmt } from './api.js';


let stylePromise = null;
/** The basemap style document (fetched once). */
export function basemapStyle() {
  if (!stylePromise) stylePromise = fetch('/web/style.json').then((r) => r.json());
  return stylePromise;
}

/**
 * The lowest zoom the basemap's tiles hold: the `minzoom` of the style's vector sources (the
 * server's tiles start at zoom 10, mobility.export.map_style). Below it MapLibre asks for no tile
 * and draws no basemap at all, so no map zooms out further, nor does fitBounds fit to less.
 * @param {any} style the style document
 */
export function basemapMinZoom(style) {
  const vector = Object.values(style.sources || {}).filter((src) => src.type === 'vector');
  return Math.max(0, ...vector.map((src) => src.minzoom || 0));
}

/**
 * A map in `container`, resolved once it has drawn its basemap (`load`), or, with
 * `{ early: true }`, as soon as its style is parsed (`style.load`): data layers added then are
 * fetched and prepared together with the basemap tiles and drawn in the same first frame, instead
 * of one basemap render later.
 * @param {HTMLElement} container
 * @param {{early?: boolean, mark?: (name: string) => void}} [opts]
 * @returns {Promise<any>} the maplibregl.Map
 */
export async function createMap(container, opts = {}) {
  const mark = opts.mark || (() => {});
  const style = await basemapStyle();
  mark('style');
  const map = new maplibregl.Map({
    container,
    style: structuredClone(style),
    center: [126.99, 37.56],
    zoom: 10.3,
    minZoom: basemapMinZoom(style),
    maxZoom: 18,
    attributionControl: { compact: true },
    fadeDuration: 0, // no labels to fade in: draw each tile once, at once
    // Layers given as URLs (the plan's coverage and districts) are fetched and parsed by the
    // map's workers, off the page's thread; they need the session's key like every /v1 call.
    transformRequest: (url) => (new URL(url, location.href).origin === location.origin && url.includes('/v1/')
      ? { url, headers: { 'X-API-Key': apiKey() || '' } } : { url }),
  });
  mark('ctor');
  map.once('render', () => mark('render1'));
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  if (!(opts.early && map.style && map.style._loaded)) {
    await new Promise((resolve) => map.once(opts.early ? 'style.load' : 'load', resolve));
  }
  map.getCanvas().setAttribute('aria-label', 'Map');
  return map;
}

/** The data colours of the style. */
export async function colors() {
  return (await basemapStyle()).metadata['mobility:colors'];
}

/**
 * The plan's stations (existing, then new) as one list, each with its `kind`.
 * @param {any} plan the plan document
 */
export function planStations(plan) {
  return [...(plan.existing_stations || []).map((s) => ({ ...s, kind: 'existing' })),
    ...(plan.new_stations || []).map((s) => ({ ...s, station_id: s.id, kind: 'new' }))];
}

/**
 * GeoJSON of stations for the map: a point, its kind and its index in `stations`, nothing else.
 * The map's worker re-encodes every property of every feature into each tile it cuts, so the
 * full records (names, addresses, reasons) would keep it busy before the first frame; the popup
 * looks the station up by its index instead.
 * @param {any[]} stations from planStations
 */
export function stationFeatures(stations) {
  return { type: 'FeatureCollection', features: stations.map((s, i) => ({ type: 'Feature',
    geometry: { type: 'Point', coordinates: [s.lon, s.lat] }, properties: { i, kind: s.kind } })) };
}

/** Colour stops of the bikes-per-10,000 choropleth. */
export const CHOROPLETH = [[0, '#f7fcf0'], [20, '#ccebc5'], [30, '#7bccc4'], [40, '#2b8cbe'], [60, '#084081']];

/**
 * Draw a plan: district choropleth, coverage, existing and new stations; click a station for its popup.
 * @param {any} map @param {any} plan the plan document
 * @param {{districts?: any, coverage?: any}} layers GeoJSON of the export layers
 */
export async function drawPlan(map, plan, layers) {
  const c = await colors();
  if (layers.districts) await drawDistricts(map, layers.districts);
  if (layers.coverage) await drawCoverage(map, layers.coverage);
  // Sources stop tiling at a zoom (maxzoom) and are over-zoomed beyond it: zooming in then
  // reuses the tiles already made instead of re-cutting and re-triangulating every layer.
  const stations = planStations(plan);
  map.addSource('stations', { type: 'geojson', data: stationFeatures(stations), maxzoom: 14 });
  map.addLayer({ id: 'existing', type: 'circle', source: 'stations', filter: ['==', ['get', 'kind'], 'existing'],
    paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 1.8, 15, 6], 'circle-color': c.existing,
      'circle-stroke-color': '#fff', 'circle-stroke-width': 0.4 } });
  map.addLayer({ id: 'new', type: 'circle', source: 'stations', filter: ['==', ['get', 'kind'], 'new'],
    paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 2.5, 15, 9], 'circle-color': c.new,
      'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
  for (const id of ['existing', 'new']) {
    map.on('click', id, (e) => {
      const f = e.features[0];
      const popup = new maplibregl.Popup({ maxWidth: '360px' }).setLngLat(f.geometry.coordinates)
        .setHTML(stationPopup(stations[f.properties.i], popupMaxHeight(map))).addTo(map);
      markScroll(popup.getElement().querySelector('.popup'));
    });
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
}

/**
 * The district choropleth (bikes per 10,000 residents), under the stations when they are drawn.
 * @param {any} map @param {any} districts GeoJSON, or its URL (then fetched by the map's workers)
 */
export async function drawDistricts(map, districts) {
  const c = await colors();
  const before = map.getLayer('coverage') ? 'coverage' : map.getLayer('existing') ? 'existing' : undefined;
  map.addSource('districts', { type: 'geojson', data: districts, maxzoom: 11, tolerance: 1 });
  // No fill outline (fill-antialias): it redraws every polygon edge each frame, and the district
  // lines are drawn anyway.
  map.addLayer({ id: 'districts-fill', type: 'fill', source: 'districts', paint: { 'fill-antialias': false,
    'fill-color': ['interpolate', ['linear'], ['coalesce', ['get', 'bikes_per_10k'], 0], ...CHOROPLETH.flat()],
    'fill-opacity': ['interpolate', ['linear'], ['zoom'], 10, 0.5, 14, 0.12] } }, before);
  map.addLayer({ id: 'districts-line', type: 'line', source: 'districts',
    paint: { 'line-color': c.district_edge, 'line-width': 0.8 } }, before);
}

/**
 * Walking coverage (existing and new stations' catchments), under the stations.
 * @param {any} map @param {any} coverage GeoJSON, or its URL (then fetched by the map's workers)
 */
export async function drawCoverage(map, coverage) {
  const c = await colors();
  map.addSource('coverage', { type: 'geojson', data: coverage, maxzoom: 12, tolerance: 1 });
  map.addLayer({ id: 'coverage', type: 'fill', source: 'coverage', paint: { 'fill-antialias': false,
    'fill-color': c.coverage, 'fill-opacity': ['match', ['get', 'kind'], 'new', 0.3, 0.15] } },
  map.getLayer('existing') ? 'existing' : undefined);
}

const CONTROLS_STRIP = 36; // px along the map's bottom edge: attribution and scale controls
const POPUP_FRAME = 40; // px of the popup's padding (2 x 15) and tip (10) around its content

/**
 * The tallest a popup may be so that it fits in the map, above or below its station, clear of the
 * attribution and scale controls along the bottom. MapLibre opens a popup below the station when
 * there is no room for it above: the popup then ends at most two popup heights from the top, so a
 * popup no taller than half the map (less the controls' strip) never runs under the controls.
 * @param {any} map
 */
export function popupMaxHeight(map) {
  return Math.max(120, Math.floor((map.getContainer().clientHeight - CONTROLS_STRIP) / 2) - POPUP_FRAME);
}

/**
 * The popup of a station; its content scrolls (and can take the focus) if it is taller than `maxHeight`.
 * @param {any} p the station (see planStations) @param {number} [maxHeight] px
 */
export function stationPopup(p, maxHeight) {
  // Two figures to a row where they belong together, so that the reason shows without scrolling.
  const rows = p.kind === 'new'
    ? [['구 (district)', `${p.gu} ${p.dong || ''}`], ['거치대 · 자전거 (docks · bikes)', `${fmt(p.docks)} · ${fmt(p.bikes)}`],
      ['새로 도보권 주민 (residents newly covered)', fmt(p.population_newly_covered)],
      ['예상 이용 · 순위 (trips/day · rank)', `${fmt(p.predicted_trips, 1)} · ${fmt(p.rank)}`]]
    : [['구 (district)', p.gu], ['거치대 · 자전거 (docks · bikes)', `${fmt(p.docks)} · ${fmt(p.bikes)}`]];
  const title = p.kind === 'new' ? `신규 대여소 ${esc(p.station_id)}` : `${esc(p.number ?? '')} ${esc(p.name)}`;
  const fit = maxHeight ? ` tabindex="0" style="max-height:${Math.round(maxHeight)}px"` : '';
  return `<div class="popup" data-station="${esc(p.station_id)}"${fit}><h3>${title}</h3>` +
    `<table>${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>` +
    (p.reason ? `<p class="reason"><strong>Why:</strong> ${esc(p.reason)}</p>` : '') + '</div>';
}

/**
 * Mark a scrolling box while more of it lies below (`data-more`: the style sheet fades its bottom
 * edge, so that a line cut at the edge reads as "scroll for more").
 * @param {HTMLElement|null} el
 */
export function markScroll(el) {
  if (!el) return;
  const update = () => { el.toggleAttribute('data-more', el.scrollTop + el.clientHeight < el.scrollHeight - 1); };
  el.addEventListener('scroll', update, { passive: true });
  update();
}

/**
 * Frame `b` (a LngLatBounds) with `padding`, never below the map's lowest zoom (the basemap's first
 * tiles, basemapMinZoom): where it does not fit at that zoom (a phone), the map stays at that zoom,
 * centred on it.
 * @param {any} map @param {any} b @param {number} padding
 */
function frame(map, b, padding) {
  if (b.isEmpty()) return;
  const cam = map.cameraForBounds(b, { padding, maxZoom: 15 });
  if (cam && cam.zoom >= map.getMinZoom()) map.jumpTo(cam);
  else map.jumpTo({ center: b.getCenter(), zoom: map.getMinZoom() });
}

/** Fit the map to the features of a FeatureCollection of points. @param {any} map @param {any} fc */
export function fitPoints(map, fc, padding = 40) {
  const b = new maplibregl.LngLatBounds();
  for (const f of fc.features) {
    const g = f.geometry;
    if (g.type === 'Point') b.extend(g.coordinates);
    else if (g.type === 'LineString') g.coordinates.forEach((p) => b.extend(p));
  }
  frame(map, b, padding);
}

/**
 * Open the map on a plan's stations (existing and new): the view that holds them all, with a
 * small margin (:func:`frame`).
 * @param {any} map @param {{lon: number, lat: number}[]} stations from planStations
 */
export function fitStations(map, stations, padding = 16) {
  const b = new maplibregl.LngLatBounds();
  for (const s of stations) if (Number.isFinite(s.lon) && Number.isFinite(s.lat)) b.extend([s.lon, s.lat]);
  frame(map, b, padding);
}

/** Keep two maps on the same view (pan and zoom together). @param {any} a @param {any} b */
export function syncMaps(a, b) {
  let busy = false;
  const follow = (src, dst) => () => {
    if (busy) return;
    busy = true;
    dst.jumpTo({ center: src.getCenter(), zoom: src.getZoom(), bearing: src.getBearing(), pitch: src.getPitch() });
    busy = false;
  };
  a.on('move', follow(a, b));
  b.on('move', follow(b, a));
}

/** What the driver does at a stop, in the words of the route sheets (mobility.export.routes). @param {number} q */
export function stopAction(q) {
  return q > 0 ? '수거 pick up' : q < 0 ? '배치 drop off' : '방문 visit';
}

/** A stop's quantity as a signed label: +5 picked up, −3 dropped off. @param {number} q */
export function signedQuantity(q) {
  return q > 0 ? `+${q}` : q < 0 ? `−${-q}` : '0';
}

/**
 * Each truck's colour (by its place among the plan's trucks, as on the static and HTML maps).
 * @param {any} routes the routes.json document @param {any} c the style's colours
 * @returns {Map<string, string>}
 */
export function truckColors(routes, c) {
  return new Map(routes.routes.map((r, i) => [r.truck_id, c.trucks[i % c.trucks.length]]));
}

/**
 * The legend of a night's map: the trucks on the road (id and colour), the stop symbols and the depot.
 * @param {any} routes the routes.json document
 */
export async function routesLegend(routes) {
  const byTruck = truckColors(routes, await colors());
  const used = routes.routes.filter((r) => r.stops.length);
  return `<div class="legend" id="truck-legend" aria-label="Map legend">
    ${used.map((r) => `<span class="legend-truck" data-truck="${esc(r.truck_id)}"><i class="line" style="background:${esc(byTruck.get(r.truck_id))}"></i>${esc(r.truck_id)}</span>`).join('')}
    <span><span class="stop-mark pick legend-mark" aria-hidden="true"><i class="arrow"></i><span class="seq">n</span><span class="qty">+b</span></span> 수거 pick up (stop no.: bikes)</span>
    <span><span class="stop-mark drop legend-mark" aria-hidden="true"><i class="arrow"></i><span class="seq">n</span><span class="qty">−b</span></span> 배치 drop off</span>
    <span><span class="depot-mark legend-mark" aria-hidden="true">D</span> 차고지 depot</span></div>`;
}

/** The zoom from which a night's stop labels are shown (below it: the coloured stop dots only). */
export const STOP_LABEL_MIN_ZOOM = 13;

/**
 * Which labels to show so that none overlaps another: the first of each overlapping group wins
 * (labels are given in route order), like MapLibre's symbol collision for HTML markers.
 * @param {{left: number, top: number, right: number, bottom: number}[]} boxes screen boxes, in priority order
 * @param {number} [gap] px kept free between two labels
 * @returns {boolean[]} shown or not, for each box
 */
export function placeLabels(boxes, gap = 1) {
  const cell = 64;
  /** @type {Map<string, number[]>} */
  const grid = new Map();
  const cells = (b) => {
    const out = [];
    for (let x = Math.floor(b.left / cell); x <= Math.floor(b.right / cell); x++) {
      for (let y = Math.floor(b.top / cell); y <= Math.floor(b.bottom / cell); y++) out.push(`${x},${y}`);
    }
    return out;
  };
  const hit = (a, b) => a.left < b.right + gap && b.left < a.right + gap && a.top < b.bottom + gap && b.top < a.bottom + gap;
  return boxes.map((b, i) => {
    const keys = cells(b);
    if (keys.some((k) => (grid.get(k) || []).some((j) => hit(b, boxes[j])))) return false;
    for (const k of keys) grid.set(k, [...(grid.get(k) || []), i]);
    return true;
  });
}

/**
 * Show the stop labels (HTML markers) from STOP_LABEL_MIN_ZOOM only, and of those only the ones
 * that overlap no label before them; the stops' dots (layer `stops`) stay at every zoom.
 * @param {any} map @param {HTMLElement[]} labels in route order
 */
function declutter(map, labels) {
  const readable = map.getZoom() >= STOP_LABEL_MIN_ZOOM;
  for (const el of labels) el.hidden = !readable;
  if (!readable) return;
  const shown = placeLabels(labels.map((el) => el.getBoundingClientRect()));
  labels.forEach((el, i) => { el.hidden = !shown[i]; });
}

/**
 * Draw a night: each truck's route in its colour; its stops as dots in that colour, and from
 * zoom STOP_LABEL_MIN_ZOOM numbered in order, each with its signed quantity and an arrow up
 * (pick-up) or down (drop-off), overlapping labels left out; the depots as squares. Click a stop
 * (or focus its label and press Enter) for its numbers.
 * @param {any} map @param {any} routes the routes.json document
 */
export async function drawRoutes(map, routes) {
  const byTruck = truckColors(routes, await colors());
  const lines = [];
  const stops = [];
  for (const r of routes.routes) {
    const color = byTruck.get(r.truck_id);
    const coords = r.path && r.path.length ? r.path : r.stops.map((s) => [s.lon, s.lat]);
    if (coords.length > 1) {
      lines.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: coords }, properties: { truck: r.truck_id, color } });
    }
    for (const s of r.stops) {
      stops.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
        properties: { ...s, truck: r.truck_id, color } });
    }
  }
  map.addSource('routes', { type: 'geojson', data: { type: 'FeatureCollection', features: lines } });
  map.addLayer({ id: 'routes', type: 'line', source: 'routes', layout: { 'line-join': 'round' },
    paint: { 'line-color': ['get', 'color'], 'line-width': 3, 'line-opacity': 0.85 } });
  map.addSource('stops', { type: 'geojson', data: { type: 'FeatureCollection', features: stops } });
  map.addLayer({ id: 'stops', type: 'circle', source: 'stops',
    paint: { 'circle-color': ['get', 'color'], 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 2.5, 14, 5],
      'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
  const fc = { type: 'FeatureCollection', features: [...stops] };
  // The basemap has no glyphs (no fonts offline), so the labels are HTML markers.
  /** @type {HTMLElement[]} */
  const labels = [];
  const popups = [];
  for (const f of stops) {
    const p = f.properties;
    const q = Number(p.quantity);
    const el = document.createElement('div');
    el.className = `stop-mark ${q > 0 ? 'pick' : q < 0 ? 'drop' : 'visit'}`;
    el.style.setProperty('--truck', p.color);
    Object.assign(el.dataset, { truck: p.truck, seq: String(p.seq), quantity: String(q) });
    el.innerHTML = `<i class="arrow"></i><span class="seq">${esc(p.seq)}</span><span class="qty">${signedQuantity(q)}</span>`;
    const popup = new maplibregl.Popup({ offset: 14 }).setHTML(
      `<div class="popup"><h3>${esc(p.truck)} · ${esc(p.seq)}. ${esc(p.name)}</h3>` +
      `<p>${esc(p.arrival)} — ${stopAction(q)} ${Math.abs(q)}</p>` +
      `<p>자전거 (bikes) ${esc(p.bikes_before)} → ${esc(p.bikes_after)}</p></div>`);
    new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).setPopup(popup).addTo(map);
    el.setAttribute('aria-label', `${p.truck} stop ${p.seq}, ${p.name}: ${stopAction(q)} ${Math.abs(q)}`);
    labels.push(el);
    popups.push(popup);
  }
  // A dot without its label (zoomed out, or its label left out) opens the same numbers.
  map.on('click', 'stops', (e) => {
    const i = stops.findIndex((f) => f.properties.truck === e.features[0].properties.truck
      && String(f.properties.seq) === String(e.features[0].properties.seq));
    if (i >= 0) popups[i].setLngLat(stops[i].geometry.coordinates).addTo(map);
  });
  map.on('mouseenter', 'stops', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'stops', () => { map.getCanvas().style.cursor = ''; });
  const usedDepots = new Set(routes.routes.filter((r) => r.stops.length).map((r) => r.depot_id));
  for (const d of routes.depots || []) {
    const el = document.createElement('div');
    el.className = 'depot-mark';
    el.dataset.depot = d.id;
    el.textContent = d.id;
    el.title = `차고지 depot ${d.name || d.id}`;
    new maplibregl.Marker({ element: el }).setLngLat([d.lon, d.lat]).addTo(map);
    el.setAttribute('aria-label', `Depot ${d.name || d.id}`);
    if (usedDepots.has(d.id)) {
      fc.features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [d.lon, d.lat] }, properties: { depot: d.id } });
    }
  }
  fitPoints(map, fc);
  declutter(map, labels);
  map.on('moveend', () => declutter(map, labels));
  return fc;
}

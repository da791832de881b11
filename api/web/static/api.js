// The HTTP API as the app uses it: the key kept for this browser session, JSON in and out,
// and errors carrying the API's own body ({detail, errors: [{field, problem}]}).

const KEY = 'mobility.apiKey';

/** @returns {string|null} the API key of this browser session */
export function apiKey() {
  return sessionStorage.getItem(KEY);
}

/** @param {string|null} key */
export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

/** An error answer of the API. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{detail?: string, errors?: Array<{field: string, problem: string}>}} body
   */
  constructor(status, body) {
    super(body.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * Call the API with the session's key.
 * @param {string} path e.g. "/v1/scenarios"
 * @param {{method?: string, body?: unknown, accept?: string, key?: string}} [opts] a Blob body (a File) is sent as
 *   its bytes, anything else as JSON
 * @returns {Promise<any>} parsed JSON (or text for non-JSON answers)
 */
export async function api(path, opts = {}) {
  const headers = { 'X-API-Key': opts.key || apiKey() || '' };
  if (opts.accept) headers.Accept = opts.accept;
  /** @type {RequestInit} */
  const init = { method: opts.method || 'GET', headers };
  if (opts.body instanceof Blob) {
    // a file's bytes as they are (e.g. a status CSV for the server's reader)
    headers['Content-Type'] = opts.body.type || 'application/octet-stream';
    init.body = opts.body;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  const res = await fetch(path, init);
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    throw new ApiError(res.status, typeof data === 'object' ? data : { detail: String(data) });
  }
  return data;
}

/**
 * Download a file of the API (with the key) and hand it to the browser as a file.
 * @param {string} path
 * @param {string} filename
 */
export async function download(path, filename) {
  const res = await fetch(path, { headers: { 'X-API-Key': apiKey() || '' } });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

let openapi = null;
/** The OpenAPI document of the server (the forms are generated from its schemas). */
export async function openApi() {
  if (!openapi) openapi = await (await fetch('/openapi.json')).json();
  return openapi;
}

/**
 * Poll a job until it finishes, calling onUpdate with every state.
 * @param {string} location e.g. "/v1/scenarios/<id>"
 * @param {(job: any) => void} onUpdate
 * @param {{interval?: number, signal?: {stopped: boolean}}} [opts]
 */
export async function pollJob(location, onUpdate, opts = {}) {
  const interval = opts.interval || 1000;
  for (;;) {
    const job = await api(location);
    onUpdate(job);
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return job;
    if (opts.signal && opts.signal.stopped) return job;
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Escape text for HTML. @param {unknown} s */
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/**
 * Format a number for people with exactly `digits` decimals, trailing zeros kept, so that the
 * figures of one column or of one before → after pair line up ("24.0 → 27.1 %", not "24 → 27.1 %");
 * thousands grouped (the Korean locale groups them like English: 1,840). Give each kind of figure
 * its own fixed number: counts 0, shares in % and bikes per 10,000 residents 1.
 * @param {unknown} v @param {number} [digits]
 */
export function fmt(v, digits = 0) {
  if (v === null || v === undefined || v === '') return '–';
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  // a value that rounds to zero reads 0, not -0 or -0.0
  const shown = Number(n.toFixed(digits)) === 0 ? 0 : n;
  return shown.toLocaleString('ko-KR', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

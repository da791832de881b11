// The app shell: sign-in, and the views addressed by the URL fragment.
//   #/signin  #/plans  #/plans/new?from=<file|job id>  #/jobs/<id>  #/plan/<id>
//   #/compare?a=<id>&b=<id>  #/curves  #/curve/<id>  #/nights  #/nights/new  #/runs/<id>  #/runs/<id>/sheets

import { api, apiKey, ApiError, esc, setApiKey } from './api.js';
import * as planner from './planner.js';
import * as ops from './ops.js';
import * as sweeps from './sweeps.js';

// MapLibre's worker is its own file (the CSP build), not a blob of the whole bundle made in the
// page. It is started now, on every view, rather than when the first map is created: it has to
// fetch and parse its code (0.35 MB) before it can cut the first tile, and a planner reaches a map
// from the list of plans, where it would otherwise start only on the click.
maplibregl.setWorkerUrl('/web/vendor/maplibre-gl-worker.js');
maplibregl.prewarm();

const view = /** @type {HTMLElement} */ (document.getElementById('view'));
const signout = /** @type {HTMLButtonElement} */ (document.getElementById('signout'));

/** Sign-in page: the key is checked against the API, then kept in sessionStorage only. */
function signIn(el, next) {
  el.innerHTML = `
    <section class="narrow">
      <h2>Sign in</h2>
      <p>Enter the API key you were given (<code>mob_…</code>). It is kept in this browser tab only and forgotten when the tab closes.</p>
      <form id="signin-form" novalidate>
        <div class="field">
          <label for="api-key">API key</label>
          <input id="api-key" name="api-key" type="password" autocomplete="off" required aria-describedby="api-key-err">
          <p class="error" id="api-key-err" aria-live="polite"></p>
        </div>
        <button type="submit" class="primary">Sign in</button>
      </form>
    </section>`;
  const form = /** @type {HTMLFormElement} */ (el.querySelector('#signin-form'));
  const input = /** @type {HTMLInputElement} */ (el.querySelector('#api-key'));
  const err = /** @type {HTMLElement} */ (el.querySelector('#api-key-err'));
  input.focus();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    if (!key) {
      err.textContent = 'enter your API key';
      return;
    }
    try {
      await api('/v1/scenarios?limit=1', { key });
      setApiKey(key);
      go(next && next !== '#/signin' ? next : '#/plans');
    } catch (e) {
      err.textContent = e instanceof ApiError ? e.message : String(e);
      input.setAttribute('aria-invalid', 'true');
    }
  });
}

const ROUTES = [
  [/^#\/plans$/, planner.listView],
  [/^#\/plans\/new$/, planner.newView],
  [/^#\/jobs\/(\w+)$/, planner.jobView],
  [/^#\/plan\/(\w+)$/, planner.planView],
  [/^#\/compare$/, planner.compareView],
  [/^#\/curves$/, sweeps.listView],
  [/^#\/curve\/(\w+)$/, sweeps.curveView],
  [/^#\/nights$/, ops.listView],
  [/^#\/nights\/new$/, ops.newView],
  [/^#\/runs\/(\w+)$/, ops.runView],
  [/^#\/runs\/(\w+)\/sheets$/, ops.sheetsView],
];

let current = 0;
async function route() {
  const token = ++current;
  const [path, query] = (location.hash || '#/plans').split('?');
  const params = new URLSearchParams(query || '');
  signout.hidden = !apiKey();
  document.querySelectorAll('nav a').forEach((a) => {
    if (path.startsWith(a.getAttribute('href') || '#none')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (!apiKey() || path === '#/signin') {
    signIn(view, path === '#/signin' ? '#/plans' : location.hash);
    return;
  }
  for (const [re, fn] of ROUTES) {
    const m = path.match(re);
    if (m) {
      view.innerHTML = '<p class="loading">Loading…</p>';
      delete view.dataset.ready;
      try {
        await fn(view, m.slice(1), params, () => token === current);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          setApiKey(null);
          signIn(view, location.hash);
          return;
        }
        if (token === current) view.innerHTML = `<p class="error" role="alert">${esc(e.message || e)}</p>`;
      }
      return;
    }
  }
  location.hash = '#/plans';
}

/** Show `hash` (also when it is the current one, which fires no hashchange). @param {string} hash */
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

signout.addEventListener('click', () => {
  setApiKey(null);
  go('#/signin');
});
window.addEventListener('hashchange', route);
route();

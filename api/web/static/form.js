// A form generated from a JSON Schema of the OpenAPI document (pydantic's), with the API's
// validation messages shown beside the field they name. Objects become fieldsets; numbers,
// text, choices and switches become inputs; lists (polygons, truck lists) are edited as JSON.

import { esc } from './api.js';

/**
 * Resolve $ref, allOf of one and "X or null" (anyOf with null) into one schema.
 * @param {any} s @param {any} doc the OpenAPI document
 * @returns {any}
 */
function resolve(s, doc) {
  if (!s) return {};
  if (s.$ref) {
    const name = s.$ref.split('/').pop();
    return resolve({ ...doc.components.schemas[name], ...without(s, '$ref') }, doc);
  }
  if (s.allOf && s.allOf.length === 1) return resolve({ ...s.allOf[0], ...without(s, 'allOf') }, doc);
  if (s.anyOf) {
    const rest = s.anyOf.filter((x) => x.type !== 'null');
    if (rest.length === 1) {
      return { ...resolve(rest[0], doc), ...without(s, 'anyOf'), nullable: rest.length < s.anyOf.length };
    }
  }
  return s;
}

function without(o, key) {
  const c = { ...o };
  delete c[key];
  return c;
}

function label(name, s) {
  return s.title || name.replace(/_/g, ' ');
}

/** The element id of a field path. @param {string[]} path */
export function fieldId(path) {
  return 'f-' + path.join('-');
}

/**
 * Build the form into `container`.
 * @param {HTMLElement} container
 * @param {any} schema the root schema (e.g. components.schemas.ScenarioRequest)
 * @param {any} doc the OpenAPI document
 * @param {any} value initial values
 * @param {{skip?: string[]}} [opts] top-level fields left out of the form
 */
export function buildForm(container, schema, doc, value, opts = {}) {
  container.innerHTML = '';
  const top = document.createElement('div');
  top.className = 'form-errors';
  top.setAttribute('role', 'alert');
  container.append(top);
  const fields = [];

  /**
   * @param {HTMLElement} parent @param {string[]} path @param {any} raw @param {any} val @param {boolean} required
   */
  function render(parent, path, raw, val, required) {
    const s = resolve(raw, doc);
    const name = path[path.length - 1];
    const id = fieldId(path);
    if (s.type === 'object' && s.properties) {
      const fs = document.createElement('fieldset');
      fs.id = id;
      // a nested model's own title is its class name: the field's (pydantic's title of the
      // property, on an optional one beside its anyOf) or its name reads better
      const legend = label(name, raw.$ref ? {} : raw.anyOf ? raw : s);
      fs.innerHTML = `<legend>${esc(legend.charAt(0).toUpperCase() + legend.slice(1))}</legend>` +
        (s.description ? `<p class="hint">${esc(firstLine(s.description))}</p>` : '');
      parent.append(fs);
      // a field of a section the request may leave out (a budget) is needed only when the section
      // is given: marked required only inside a required section, its hint says when
      const given = required && !s.nullable;
      const req = new Set(s.required || []);
      for (const [k, sub] of Object.entries(s.properties)) {
        const when = req.has(k) && !given ? `Required when ${legend.toLowerCase()} is given.` : '';
        render(fs, [...path, k], when ? { ...sub, 'x-when': when } : sub,
          val && typeof val === 'object' ? val[k] : undefined, req.has(k) && given);
      }
      fs.append(errorSlot(id));
      return;
    }
    const row = document.createElement('div');
    row.className = 'field';
    const text = [raw['x-when'], s.description ? firstLine(s.description) : jsonHint(s, doc)]
      .filter(Boolean).join(' ');
    const hint = text ? `<span class="hint" id="${id}-hint">${esc(text)}</span>` : '';
    const lab = `<label for="${id}">${esc(label(name, s))}${required ? ' <span aria-hidden="true">*</span>' : ''}</label>`;
    let kind;
    let input;
    const enumValues = s.enum || (s.const !== undefined ? [s.const] : null);
    if (enumValues) {
      kind = 'enum';
      input = document.createElement('select');
      const opts = (!required || s.nullable ? ['', ...enumValues] : enumValues);
      input.innerHTML = opts.map((o) => `<option value="${esc(o)}">${esc(o === '' ? '(default)' : o)}</option>`).join('');
      const v = val ?? s.default;
      input.value = v === undefined || v === null ? '' : String(v);
    } else if (s.type === 'boolean') {
      kind = 'boolean';
      input = document.createElement('input');
      input.type = 'checkbox';
      input.checked = Boolean(val ?? s.default);
    } else if (s.type === 'integer' || s.type === 'number') {
      // a text box, not <input type=number>: that one reads as empty when what was typed is not a
      // number ("30,000", "abc", "1e999"), and an empty field is left out of the request, so the
      // server's default would silently replace what the planner typed
      kind = s.type;
      input = document.createElement('input');
      input.type = 'text';
      input.inputMode = s.type === 'integer' && (s.minimum ?? -1) >= 0 ? 'numeric' : 'decimal';
      input.autocomplete = 'off';
      input.value = val === undefined || val === null ? '' : String(val);
      if (s.default !== undefined && s.default !== null) input.placeholder = String(s.default);
    } else if (s.type === 'string') {
      kind = 'string';
      input = document.createElement('input');
      input.type = 'text';
      input.value = val === undefined || val === null ? '' : String(val);
      if (s.default) input.placeholder = String(s.default);
    } else {
      kind = 'json';
      input = document.createElement('textarea');
      input.rows = 3;
      input.spellcheck = false;
      input.value = val === undefined || val === null ? '' : JSON.stringify(val);
    }
    input.id = id;
    input.name = path.join('.');
    input.dataset.path = path.join('.');
    if (hint) input.setAttribute('aria-describedby', `${id}-hint ${id}-err`);
    else input.setAttribute('aria-describedby', `${id}-err`);
    row.innerHTML = lab + hint;
    row.append(input, errorSlot(id));
    parent.append(row);
    const expected = kind === 'json' ? jsonHint(s, doc) || (s.type === 'array' ? 'a JSON list [...]' : 'a JSON object {...}') : '';
    fields.push({ path, kind, input, required, nullable: Boolean(s.nullable), expected });
  }

  const req = new Set(schema.required || []);
  const root = resolve(schema, doc);
  for (const [k, sub] of Object.entries(root.properties)) {
    if (opts.skip && opts.skip.includes(k)) continue;
    render(container, [k], sub, value ? value[k] : undefined, req.has(k));
  }

  /**
   * The form's value (blank optional fields are left out, so the server's defaults apply), or null
   * when a field is not valid (its message is shown beside it).
   * @returns {Record<string, any> | null}
   */
  function read() {
    clearErrors();
    const out = {};
    let bad = null; // the first field that is not valid
    for (const f of fields) {
      let v;
      const text = f.input.value;
      if (f.kind === 'boolean') v = f.input.checked;
      else if (text.trim() === '') continue;
      else if (f.kind === 'integer' || f.kind === 'number') {
        const n = parseNumber(text, f.kind === 'integer');
        if ('problem' in n) {
          showField(f.path.join('.'), n.problem);
          bad = bad || f;
          continue;
        }
        v = n.value;
      } else if (f.kind === 'json') {
        try {
          v = JSON.parse(text);
        } catch (e) {
          showField(f.path.join('.'), jsonProblem(text, e, f.expected));
          bad = bad || f;
          continue;
        }
      } else v = text;
      let o = out;
      for (const p of f.path.slice(0, -1)) o = o[p] ??= {};
      o[f.path[f.path.length - 1]] = v;
    }
    if (!bad) return out;
    // the long form may have scrolled the field out of sight: bring it and its message into view
    bad.input.scrollIntoView({ block: 'center' });
    bad.input.focus({ preventScroll: true });
    return null;
  }

  function clearErrors() {
    top.textContent = '';
    container.querySelectorAll('.error').forEach((e) => { e.textContent = ''; });
    container.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  }

  /** Show one problem beside the deepest field of `dotted` that the form has. */
  function showField(dotted, problem) {
    const parts = dotted.split('.').filter((p) => p !== 'body');
    for (let n = parts.length; n > 0; n--) {
      const id = fieldId(parts.slice(0, n));
      const slot = document.getElementById(`${id}-err`);
      if (slot && container.contains(slot)) {
        const rest = parts.slice(n).join('.');
        slot.textContent += (slot.textContent ? '; ' : '') + (rest ? `${rest}: ` : '') + problem;
        document.getElementById(id)?.setAttribute('aria-invalid', 'true');
        return slot;
      }
    }
    top.textContent += (top.textContent ? '; ' : '') + `${dotted}: ${problem}`;
    return top;
  }

  /** The API's 422 answer beside the fields. @param {{detail?: string, errors?: any[]}} body */
  function showErrors(body) {
    clearErrors();
    const errors = body.errors || [];
    if (!errors.length) top.textContent = body.detail || 'the server refused the request';
    let first = null;
    for (const e of errors) {
      const slot = showField(e.field || '(root)', e.problem || e.msg || 'invalid');
      first = first || slot;
    }
    if (first) first.scrollIntoView({ block: 'center' });
  }

  return { read, showErrors, clearErrors, fields };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A number typed into a form field, or what is wrong with it (the value as typed and what is
 * expected, in the words of the API's own messages: "got …; expected …"). Only plain decimal
 * notation: "30,000", "1 000", "0x10", "abc" and numbers beyond the double range ("1e999") are refused.
 * @param {string} text @param {boolean} integer a whole number is expected
 * @returns {{value: number} | {problem: string}}
 */
export function parseNumber(text, integer) {
  const t = text.trim();
  const n = NUMBER.test(t) ? Number(t) : NaN;
  if (Number.isFinite(n)) return { value: n };
  return { problem: `got "${shorten(t)}"; expected ${integer ? 'a whole number such as 30000' : 'a number such as 0.5 or 300'} (digits, no thousands separators)` };
}

/**
 * What is wrong with the text of a field edited as JSON: the text (shortened), the parser's
 * complaint and what the field takes.
 * @param {string} text @param {unknown} err the SyntaxError of JSON.parse @param {string} expected
 */
function jsonProblem(text, err, expected) {
  const why = err instanceof Error ? err.message : String(err);
  return `got ${shorten(text.trim())}; not valid JSON (${why})${expected ? `; expected ${expected.charAt(0).toLowerCase()}${expected.slice(1)}` : ''}`;
}

/** A typed value as a message quotes it: at most 40 characters. @param {string} t */
function shorten(t) {
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}

function errorSlot(id) {
  const p = document.createElement('p');
  p.className = 'error';
  p.id = `${id}-err`;
  p.setAttribute('aria-live', 'polite');
  return p;
}

/**
 * The first paragraph of a description, as plain text: the descriptions are the models'
 * docstrings, so Sphinx roles (:class:`~a.b.Baseline`) become the name, ``code`` and `code` lose
 * their backquotes, and references to the code that users cannot follow ("(see travel_for)")
 * are left out.
 * @param {string} text
 */
export function firstLine(text) {
  return String(text).split('\n\n')[0]
    .replace(/:[a-z]+:`~?(?:[\w.]*\.)?([^`]+)`/g, '$1')
    .replace(/\s*\(see `{0,2}[A-Za-z]\w*(?:[._]\w+)+(?:\(\))?`{0,2}\)/g, '')
    .replace(/`{1,2}([^`]*)`{1,2}/g, '$1')
    .replace(/\s+/g, ' ').trim();
}

/** What a field edited as JSON takes, when its schema says no more: a list of objects and their fields. */
function jsonHint(s, doc) {
  const items = s.type === 'array' ? resolve(s.items, doc) : null;
  if (!items || !items.properties) return '';
  const req = new Set(items.required || []);
  const keys = Object.keys(items.properties);
  const shown = [...keys.filter((k) => req.has(k)), ...keys.filter((k) => !req.has(k))];
  return `A JSON list of objects with ${shown.map((k) => (req.has(k) ? k : `${k}?`)).join(', ')} (? optional)`;
}

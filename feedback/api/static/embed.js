/* feedback embed: <div data-feedback-survey="org/survey"></div><script src="https://…/embed.js" async></script>
   Optional on the div: data-locale="nl", data-token="<personal link token>".
   <div data-feedback-results="org/survey"></div> shows the survey's public results.
   Renders the survey with DOM calls only (labels are untrusted text: textContent, never HTML),
   sends answers with a client-made response_id (the idempotency key, so retries and the offline
   queue never duplicate), and shows the server's field errors next to their fields. */
(function () {
  "use strict";
  var STRINGS = /*STRINGS*/ { en: {} };
  // Under node (the tests) there is no page: hand over the skip-logic evaluator and stop.
  if (typeof document === "undefined") return (module.exports = { holds: holds, visibleKeys: visibleKeys });
  var script = document.currentScript || document.querySelector('script[src*="/embed.js"]');
  var BASE = new URL(script ? script.src : "/", location.href).origin;
  var QUEUE = "feedback:queue";
  var live = {}; // response_id → the mounted form waiting for it
  var seq = 0;
  var flushing = false;

  function load(key, fallback) {
    try { var v = localStorage.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // randomUUID needs a secure context; getRandomValues does not.
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }
  function anonymousId() {
    var id = load("feedback:anon", null);
    if (!id) { id = uuid(); save("feedback:anon", id); }
    return id;
  }
  function fmt(s, vars) { return s.replace(/\{(\w+)\}/g, function (m, k) { return vars[k]; }); }
  function stringsFor(locale) {
    var l = String(locale || "en").toLowerCase();
    return STRINGS[l] || STRINGS[l.split("-")[0]] || STRINGS.en;
  }
  // The language of the forms' own words where the survey's has no catalogue (English around
  // an Arabic survey), marked so a screen reader reads them in it; else null (as words_lang).
  function wordsLang(locale) {
    return stringsFor(locale) === STRINGS.en && !/^en(-|$)/i.test(locale || "") ? "en" : null;
  }

  // el("p", {class: "x"}, "text", child): attributes set one by one, strings become text nodes.
  function el(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs) {
      var v = attrs[k];
      if (v === false || v == null) continue;
      if (k === "hidden") e.hidden = true;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (var i = 2; i < arguments.length; i++) {
      var kid = arguments[i];
      if (kid == null) continue;
      if (Array.isArray(kid)) kid.forEach(function (c) { if (c != null) e.append(c); });
      else e.append(kid);
    }
    return e;
  }

  // A results page, served from this script's origin (which the browser evidently reaches).
  function page(url, locale) { return BASE + new URL(url).pathname + "?locale=" + encodeURIComponent(locale); }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // fetch, retried on network errors, 5xx and 429 with exponential backoff and full jitter,
  // waiting Retry-After when the server gives one. Offline: fail at once (the caller queues).
  async function request(url, init, retries) {
    for (var attempt = 0; ; attempt++) {
      var res = null;
      try { res = await fetch(url, init); } catch (e) { res = null; }
      if (res && res.status < 500 && res.status !== 429) return res;
      if (attempt >= retries || !navigator.onLine) {
        if (res) return res;
        throw new Error("unreachable");
      }
      var after = res ? Number(res.headers.get("Retry-After")) : 0;
      await sleep(after > 0 ? after * 1000 : Math.random() * Math.min(30000, 500 * Math.pow(2, attempt + 1)));
    }
  }
  function postJSON(body) {
    return { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  }
  async function problemOf(res) {
    try { return await res.json(); } catch (e) { return {}; }
  }

  function points(q, t) {
    if (q.type === "nps") {
      var labels = Object.assign({ 0: t.nps_low, 10: t.nps_high }, q.labels);
      return { min: 0, max: 10, labels: labels };
    }
    return { min: q.scale.min, max: q.scale.max, labels: q.scale.labels || {} };
  }
  function hintOf(q, t, locale) {
    var parts = [q.description, q.hint];
    if (q.type === "multi_choice" && q.max_choices) parts.push(fmt(t.choose_up_to, { n: q.max_choices }));
    if (q.type === "text") parts.push(fmt(t.max_chars, { n: q.max_length }));
    if (q.type === "number") {
      var lo = q.min != null, hi = q.max != null;
      if (lo && hi) parts.push(fmt(t.number_range, { min: q.min, max: q.max }));
      else if (lo) parts.push(fmt(t.number_min, { min: q.min }));
      else if (hi) parts.push(fmt(t.number_max, { max: q.max }));
    }
    if (q.type === "date" && (q.min || q.max)) { // a date's limits too, before it is answered
      var day = function (d) { return new Date(d + "T00:00:00Z").toLocaleDateString(locale, { dateStyle: "long", timeZone: "UTC" }); };
      parts.push(q.min && q.max ? fmt(t.date_range, { min: day(q.min), max: day(q.max) })
        : q.min ? fmt(t.date_min, { min: day(q.min) }) : fmt(t.date_max, { max: day(q.max) }));
    }
    return parts.filter(Boolean).join(" ");
  }

  // Skip logic, the rule of feedback/surveys/show_if.py to the letter (a property test runs
  // both on the same conditions and answers): conditions are read in question order, a hidden
  // question's answer counts for nothing, types compare strictly, and only ASCII text (ISO
  // dates) compares by order. Blank text is what Python's str.strip() empties, as on the server.
  // (Literals inside the functions: under node the script returns before any `var` is set.)
  function answered(v) {
    if (v == null) return false;
    if (typeof v === "string") return !/^[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/.test(v);
    if (Array.isArray(v)) return v.length > 0;
    return true;
  }
  function same(a, b) {
    return (typeof a === "number" || typeof a === "string") && typeof a === typeof b && a === b;
  }
  function onSide(v, bound, least) {
    var ascii = /^[\x00-\x7f]*$/;
    var ok = (typeof v === "number" && typeof bound === "number") ||
      (typeof v === "string" && typeof bound === "string" && ascii.test(v) && ascii.test(bound));
    return ok && (least ? v >= bound : v <= bound);
  }
  function holds(c, answers) {
    if ("all" in c) return c.all.every(function (p) { return holds(p, answers); });
    if ("any" in c) return c.any.some(function (p) { return holds(p, answers); });
    var v = Object.prototype.hasOwnProperty.call(answers, c.question) ? answers[c.question] : null;
    if ("answered" in c) return answered(v) === c.answered;
    if (!answered(v)) return false;
    var chosen = Array.isArray(v) ? v : [v];
    if ("equals" in c) return chosen.some(function (x) { return same(x, c.equals); });
    if ("in" in c) return chosen.some(function (x) { return c.in.some(function (w) { return same(x, w); }); });
    if ("at_least" in c) return onSide(v, c.at_least, true);
    return onSide(v, c.at_most, false);
  }
  function visibleKeys(questions, answers) {
    var shown = [], seen = {};
    questions.forEach(function (q) {
      if (q.show_if != null && !holds(q.show_if, seen)) return;
      shown.push(q.key);
      if (Object.prototype.hasOwnProperty.call(answers, q.key)) seen[q.key] = answers[q.key];
    });
    return shown;
  }
  // Shows the questions whose conditions hold for the answers on the form, hides the others.
  function applyShowIf(ctx) {
    var shown = visibleKeys(ctx.form.questions, answersOf(ctx));
    Object.keys(ctx.fields).forEach(function (key) { ctx.fields[key].box.hidden = shown.indexOf(key) < 0; });
  }
  // The answers to send: those of the questions shown (a hidden question's answer is refused).
  function shownAnswers(ctx) {
    var answers = answersOf(ctx), out = {};
    visibleKeys(ctx.form.questions, answers).forEach(function (k) { if (k in answers) out[k] = answers[k]; });
    return out;
  }

  function question(ctx, q) {
    var t = ctx.t, id = ctx.prefix + q.key, hint = hintOf(q, t, ctx.locale), controls = [], body;
    var title = q.required ? [q.label, " ", el("span", { class: "fb-req", lang: ctx.words }, t.required)] : [q.label];
    var hintEl = hint ? el("p", { class: "fb-hint", id: id + "-hint" }, hint) : null;
    var errEl = el("p", { class: "fb-error-msg", id: id + "-error", lang: ctx.words, hidden: true });
    // The visible "Required" as a state, as on the hosted page (templates/_fields.html).
    var required = q.required ? "true" : null;
    if (q.type === "number" || q.type === "text" || q.type === "date") {
      var input = q.type === "text"
        ? el("textarea", { class: "fb-text", id: id, name: q.key, rows: 5, maxlength: q.max_length,
            "aria-required": required })
        : q.type === "date"
        ? el("input", { class: "fb-input fb-date", type: "date", id: id, name: q.key, min: q.min, max: q.max,
            "aria-required": required })
        : el("input", { class: "fb-input", type: "text", inputmode: q.integer ? "numeric" : "decimal",
            autocomplete: "off", id: id, name: q.key, "aria-required": required });
      controls.push(input);
      body = el("div", { class: "fb-q" }, el("label", { class: "fb-label", for: id }, title), hintEl, errEl, input);
    } else {
      var scale = q.type === "likert" || q.type === "rating" || q.type === "nps";
      var items = [], ends = null;
      if (scale) {
        var p = points(q, t), wide = p.max - p.min + 1 > 7;
        for (var v = p.min; v <= p.max; v++) items.push({ value: v, text: String(v), caption: p.labels[v] });
        if (wide && (p.labels[p.min] || p.labels[p.max])) {
          ends = el("div", { class: "fb-ends", "aria-hidden": "true" },
            el("span", {}, p.labels[p.min] || ""), el("span", {}, p.labels[p.max] || ""));
        }
      } else {
        q.options.forEach(function (o) { items.push({ value: o.key, text: o.label }); });
      }
      var type = q.type === "multi_choice" ? "checkbox" : "radio";
      var list = el("div", { class: scale ? "fb-scale" : "fb-choices" }, items.map(function (it, i) {
        var input = el("input", { type: type, id: id + "-" + i, name: ctx.prefix + q.key, value: it.value });
        controls.push(input);
        if (!scale) return el("label", { class: "fb-choice", for: input.id }, input, el("span", {}, it.text));
        var cap = it.caption ? el("span", { class: wide ? "fb-vh" : "fb-cap" }, " " + it.caption) : null;
        return el("label", { class: "fb-point", for: input.id }, input, el("span", { class: "fb-box" }, it.text, cap));
      }));
      var one = type === "radio";
      body = el("fieldset", { class: "fb-q", role: one ? "radiogroup" : null, "aria-required": one && required },
        el("legend", { class: "fb-label" }, title), hintEl, errEl, list, ends);
    }
    var field = { q: q, box: body, err: errEl, hint: hintEl, controls: controls,
      described: body.tagName === "FIELDSET" ? body : controls[0] };
    if (hintEl) field.described.setAttribute("aria-describedby", hintEl.id);
    ctx.fields[q.key] = field;
    return body;
  }

  // A number as the form's language writes it, read as the hosted page reads one
  // (form_view.parse_number): "1,000" is a thousand in English and one in German, and where
  // the language uses that separator for neither it goes on as text, to be refused beside its
  // field rather than stored a thousand times off.
  function separators(locale) {
    var out = { decimal: ".", group: "," };
    try {
      new Intl.NumberFormat(locale).formatToParts(1234567.5).forEach(function (p) {
        if (p.type === "decimal" || p.type === "group") out[p.type] = p.value;
      });
    } catch (e) { /* a locale the browser does not know reads as English */ }
    if (/\s/.test(out.group)) out.group = " ";
    return out;
  }
  function quote(c) { return c.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&"); }
  function number(raw, locale) {
    var s = raw.trim(), sep = separators(locale), m;
    if (/^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$/.test(s)) {
      m = /^[+-]?[1-9]\d{0,2}([.,])\d{3}$/.exec(s);
      if (m && m[1] === sep.group && m[1] !== sep.decimal) s = s.replace(m[1], "");
      else if (m && m[1] !== sep.decimal) return raw;
      s = s.replace(",", ".");
    } else {
      var group = sep.group === " " ? "[ \u00a0\u202f]" : quote(sep.group);
      m = new RegExp("^([+-]?[1-9]\\d{0,2}(?:" + group + "\\d{3})+)(?:" + quote(sep.decimal) +
        "(\\d+))?$").exec(s);
      if (!m) return raw;
      s = m[1].replace(/[^\d+-]/g, "") + (m[2] ? "." + m[2] : "");
    }
    var n = Number(s);
    return isFinite(n) ? n : raw;
  }
  function answersOf(ctx) {
    var answers = {};
    Object.keys(ctx.fields).forEach(function (key) {
      var f = ctx.fields[key], q = f.q;
      var on = f.controls.filter(function (c) { return c.checked; }).map(function (c) { return c.value; });
      if (q.type === "multi_choice") { if (on.length) answers[key] = on; }
      else if (q.type === "single_choice") { if (on.length) answers[key] = on[0]; }
      else if (q.type === "text") { if (f.controls[0].value.trim()) answers[key] = f.controls[0].value; }
      else if (q.type === "date") { if (f.controls[0].value) answers[key] = f.controls[0].value; }
      else if (q.type === "number") { if (f.controls[0].value.trim()) answers[key] = number(f.controls[0].value, ctx.locale); }
      else if (on.length) answers[key] = Number(on[0]);
    });
    return answers;
  }

  function clearErrors(ctx) {
    ctx.summary.hidden = true;
    Object.keys(ctx.fields).forEach(function (key) {
      var f = ctx.fields[key];
      f.err.hidden = true;
      f.box.classList.remove("fb-invalid");
      f.controls.forEach(function (c) { c.removeAttribute("aria-invalid"); });
      f.described.setAttribute("aria-describedby", f.hint ? f.hint.id : "");
    });
  }
  function showErrors(ctx, problem) {
    clearErrors(ctx);
    var t = ctx.t, items = [], seen = {};
    (problem.errors || [{ message: problem.detail || t.send_failed }]).forEach(function (e) {
      var m = /^\/answers\/([^/]+)/.exec(e.pointer || ""), f = m && ctx.fields[m[1]];
      if (!f) { items.push(el("li", {}, e.message)); return; }
      if (seen[m[1]]) return;
      seen[m[1]] = true;
      f.err.replaceChildren(el("span", { class: "fb-vh" }, t.error + ": "), e.message);
      f.err.hidden = false;
      f.box.classList.add("fb-invalid");
      f.controls.forEach(function (c) { c.setAttribute("aria-invalid", "true"); });
      f.described.setAttribute("aria-describedby", ((f.hint ? f.hint.id + " " : "") + f.err.id));
      var link = el("a", { href: "#" + f.controls[0].id }, f.q.label + ": " + e.message);
      link.addEventListener("click", function (ev) { ev.preventDefault(); f.controls[0].focus(); });
      items.push({ order: Object.keys(ctx.fields).indexOf(m[1]), node: el("li", {}, link) });
    });
    var linked = items.filter(function (i) { return i.node; }).sort(function (a, b) { return a.order - b.order; });
    var other = items.filter(function (i) { return !i.node; });
    ctx.summary.replaceChildren(el("h2", { lang: ctx.words }, t.error_summary),
      el("ul", {}, linked.map(function (i) { return i.node; }), other));
    ctx.summary.hidden = false;
    ctx.summary.focus();
  }

  function panel(ctx, heading, text, done) {
    var h = el("h2", { tabindex: "-1", lang: ctx.words }, heading), url = done && ctx.form && ctx.form.results_url;
    var ours = !(ctx.form && text === ctx.form.thank_you) ? ctx.words : null; // else the campaigner's
    var link = url && el("p", { lang: ctx.words }, el("a", { class: "fb-results-link", href: page(url, ctx.locale) }, ctx.t.results_link));
    ctx.root.replaceChildren(el("div", { class: "fb-panel" + (done ? " fb-done" : ""), role: "status" }, h, el("p", { lang: ours }, text), link));
    return h;
  }
  function closed(ctx, problem) {
    var at = problem.next_opens_at;
    var when = at && new Date(at).toLocaleString(ctx.locale, { dateStyle: "long", timeStyle: "short" });
    panel(ctx, ctx.t.closed, when ? fmt(ctx.t.closed_next, { date: when }) : ctx.t.closed_never);
  }
  function busy(ctx, on, message) {
    if (ctx.button) ctx.button.disabled = on;
    if (ctx.status) ctx.status.textContent = message || "";
  }

  // What a submission's answer means to the form on the page.
  async function settle(ctx, res) {
    delete live[ctx.rid];
    if (res.ok) {
      // A queue from an earlier visit has no form: the forms' own thank-you.
      var thanks = (ctx.form && ctx.form.thank_you) || ctx.t.thank_you_body;
      panel(ctx, ctx.t.thank_you, thanks, true).focus();
      return;
    }
    var problem = await problemOf(res);
    // 409 names the response_id when that id already holds other answers (they are kept);
    // otherwise the survey closed or was archived since the form was shown.
    if (res.status === 409 && problem.response_id) return panel(ctx, ctx.t.thank_you, ctx.t.already_sent, true).focus();
    if (res.status === 409) return closed(ctx, problem);
    if (!ctx.summary) { // a queue from an earlier visit was refused: ask afresh
      ctx.root.removeAttribute("data-fb-mounted");
      return mount(ctx.root);
    }
    live[ctx.rid] = ctx;
    busy(ctx, false, res.status === 422 ? "" : ctx.t.send_failed);
    if (res.status === 422) showErrors(ctx, problem);
  }

  function enqueue(item) {
    var queue = load(QUEUE, []).filter(function (i) { return i.body.response_id !== item.body.response_id; });
    queue.push(item);
    return save(QUEUE, queue);
  }
  function dequeue(rid) {
    save(QUEUE, load(QUEUE, []).filter(function (i) { return i.body.response_id !== rid; }));
  }
  // Send what waits in the queue, oldest first. A 2xx or 4xx answer is final (the same
  // response_id can be sent again without a duplicate, so a flush racing another tab is safe);
  // unreachable, 5xx or 429 leaves the item for the next flush.
  async function flush() {
    if (flushing || !navigator.onLine) return;
    flushing = true;
    try {
      var queue = load(QUEUE, []);
      for (var i = 0; i < queue.length; i++) {
        var item = queue[i], res;
        try { res = await request(item.url, postJSON(item.body), 2); } catch (e) { break; }
        if (res.status >= 500 || res.status === 429) break;
        dequeue(item.body.response_id);
        if (live[item.body.response_id]) await settle(live[item.body.response_id], res);
      }
    } finally {
      flushing = false;
    }
  }

  async function submit(ctx) {
    var body = { response_id: ctx.rid, version: ctx.form.version, answers: shownAnswers(ctx),
      locale: ctx.locale, channel: "embed", anonymous_id: anonymousId() };
    if (ctx.token) body.respondent_token = ctx.token;
    var item = { url: ctx.api + "/responses", key: ctx.key, body: body };
    live[ctx.rid] = ctx;
    busy(ctx, true, ctx.t.sending);
    var res;
    try {
      res = await request(item.url, postJSON(body), navigator.onLine ? 4 : 0);
    } catch (e) {
      // The answers are no longer refused, only waiting: an earlier "There is a problem" box
      // would contradict the notice.
      clearErrors(ctx);
      if (enqueue(item)) return busy(ctx, true, ctx.t.queued);
      return busy(ctx, false, ctx.t.send_failed);
    }
    await settle(ctx, res);
  }

  function render(ctx) {
    var t = ctx.t, form = el("form", { class: "fb-form", novalidate: true });
    ctx.summary = el("div", { class: "fb-summary", role: "alert", tabindex: "-1", hidden: true });
    ctx.button = el("button", { type: "submit", class: "fb-submit", lang: ctx.words }, t.submit);
    ctx.status = el("p", { class: "fb-status", role: "status", lang: ctx.words });
    form.append(ctx.summary);
    ctx.form.questions.forEach(function (q) { form.append(question(ctx, q)); });
    form.append(ctx.button, ctx.status);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); submit(ctx); });
    form.addEventListener("input", function () { applyShowIf(ctx); });
    form.addEventListener("change", function () { applyShowIf(ctx); });
    applyShowIf(ctx);
    // replaceChildren writes a null as the text "null": only the parts the survey has.
    ctx.root.replaceChildren.apply(ctx.root, [framingHead(ctx), el("h2", { class: "fb-title" }, ctx.form.title),
      ctx.form.description ? el("p", { class: "fb-description" }, ctx.form.description) : null,
      ctx.form.intro ? el("p", { class: "fb-intro" }, ctx.form.intro) : null, form, privacyLink(ctx)].filter(Boolean));
  }

  // Who is asking (the organisation, its logo) and where its privacy notice is.
  function framingHead(ctx) {
    var f = ctx.form;
    return el("div", { class: "fb-head" },
      f.logo_url ? el("img", { class: "fb-logo", src: f.logo_url, alt: f.org_name }) : null,
      el("p", { class: "fb-org", lang: ctx.words }, fmt(ctx.t.asked_by, { org: f.org_name })));
  }
  function privacyLink(ctx) {
    var url = ctx.form.privacy_url;
    return url ? el("p", { class: "fb-privacy", lang: ctx.words }, el("a", { href: url, target: "_blank", rel: "noopener" }, ctx.t.privacy_link)) : null;
  }
  // The form's language and writing direction on the embed's root (ar, he, fa, ur: rtl).
  function direction(ctx, data) {
    ctx.root.lang = data.locale;
    ctx.root.dir = data.dir || "ltr";
  }

  // The member of `available` serving the first of `wanted` that any serves: the same tag,
  // else the same language (as the server's match_locale).
  function pick(wanted, available) {
    for (var i = 0; i < wanted.length; i++) {
      var w = String(wanted[i]).toLowerCase(), lang = w.split("-")[0];
      var hit = available.filter(function (a) { return a.toLowerCase() === w; })[0] ||
        available.filter(function (a) { return a.toLowerCase().split("-")[0] === lang; })[0];
      if (hit) return hit;
    }
    return null;
  }
  async function fetchForm(ctx, locale) {
    var query = new URLSearchParams();
    if (locale) query.set("locale", locale);
    if (ctx.token) query.set("token", ctx.token);
    var url = ctx.api + "/form?" + query, init = { headers: { Accept: "application/json" } };
    var res = await firstTry(url, init);
    if (!res) res = await request(url, init, 3);
    var data = await problemOf(res);
    if (res.status === 409) throw Object.assign(new Error("closed"), { problem: data });
    if (!res.ok) throw new Error(String(res.status));
    return data;
  }

  // One plain try. When the browser refuses to read the answer although the server is
  // reachable (a no-cors request to the same URL gets through), the page's origin is not one
  // the survey allows: retrying cannot help, and "try later" would mislead.
  async function firstTry(url, init) {
    try { return await fetch(url, init); } catch (e) { /* below */ }
    if (!navigator.onLine) return null;
    var reachable = false;
    try { await fetch(url, { mode: "no-cors", cache: "no-store" }); reachable = true; } catch (e) { reachable = false; }
    if (reachable) throw Object.assign(new Error("origin not allowed"), { notAllowed: true });
    return null;
  }
  function notAllowed(ctx, parts) {
    var hosted = BASE + "/f/" + parts.map(encodeURIComponent).join("/");
    console.warn("feedback: this page's origin " + location.origin + " is not in the allowed_origins " +
      "of survey " + parts.join("/") + ", so the survey cannot be shown here. Add the origin to the " +
      "survey's settings.allowed_origins to embed it.");
    ctx.root.replaceChildren(el("div", { class: "fb-panel", role: "status" },
      el("p", {}, ctx.t.not_allowed), el("p", {}, el("a", { href: hosted }, ctx.t.open_hosted))));
  }

  async function mount(root) {
    if (root.getAttribute("data-fb-mounted")) return;
    root.setAttribute("data-fb-mounted", "1");
    root.classList.add("fb-root");
    var parts = (root.getAttribute("data-feedback-survey") || "").split("/");
    var locale = root.getAttribute("data-locale");
    var ctx = { root: root, prefix: "fb" + ++seq + "-", fields: {}, key: parts.join("/"),
      token: root.getAttribute("data-token"), t: stringsFor(locale || navigator.language),
      api: BASE + "/api/v1/public/" + encodeURIComponent(parts[0]) + "/" + encodeURIComponent(parts[1] || "") };
    var waiting = load(QUEUE, []).filter(function (i) { return i.key === ctx.key; })[0];
    if (waiting) { // answered already, not yet delivered: say so rather than ask again
      ctx.rid = waiting.body.response_id;
      ctx.locale = waiting.body.locale;
      ctx.t = stringsFor(ctx.locale);
      ctx.words = wordsLang(ctx.locale);
      live[ctx.rid] = ctx;
      return panel(ctx, ctx.t.sending, ctx.t.queued);
    }
    var wanted = locale ? [locale] : navigator.languages || [navigator.language];
    root.setAttribute("aria-busy", "true");
    try {
      var data = await fetchForm(ctx, wanted[0]);
      // The server matches one locale; the browser may list several: ask again for the first
      // of them the survey has, when that is not what came back.
      var better = data.locales && pick(wanted, data.locales);
      if (better && better !== data.locale) data = await fetchForm(ctx, better);
      ctx.form = data;
      ctx.locale = data.locale;
      ctx.t = stringsFor(data.locale);
      ctx.words = wordsLang(data.locale);
      ctx.rid = uuid();
      direction(ctx, data);
      render(ctx);
    } catch (e) {
      if (e.problem) closed(ctx, e.problem);
      else if (e.notAllowed) notAllowed(ctx, parts);
      else panel(ctx, ctx.t.error, ctx.t.load_failed);
    } finally {
      root.removeAttribute("aria-busy");
    }
  }

  // "You said, we did": the public results as headings and lists.
  async function results(root) {
    if (root.getAttribute("data-fb-mounted")) return;
    root.setAttribute("data-fb-mounted", "1");
    root.classList.add("fb-root", "fb-results");
    var parts = (root.getAttribute("data-feedback-results") || "").split("/").map(encodeURIComponent);
    var locale = root.getAttribute("data-locale"), t = stringsFor(locale || navigator.language);
    root.setAttribute("aria-busy", "true");
    try {
      var res = await request(BASE + "/api/v1/public/" + parts.join("/") + "/results?locale=" +
        encodeURIComponent(locale || ""), {}, 2);
      if (!res.ok) throw res;
      var r = await res.json(), list = function (items, f) { return el("ul", {}, items.map(f)); };
      t = stringsFor(r.locale);
      var words = wordsLang(r.locale);
      root.lang = r.locale;
      root.dir = r.dir;
      root.replaceChildren.apply(root, [el("h2", { class: "fb-title" }, el("a", { href: page(r.url, r.locale) }, r.title)),
        r.questions.length ? el("h3", { class: "fb-rh", lang: words }, t.you_said) : null,
        r.questions.map(function (q) {
          return el("section", { class: "fb-rq" }, el("h4", {}, q.label), q.waves.length ?
            list(q.waves.slice().reverse(), function (w) {
              return el("li", { class: w.suppressed ? "fb-rsup" : null }, el("span", { class: "fb-rwave" }, w.label + ": "), el("span", { lang: words }, w.sentence));
            }) : el("p", { lang: words }, q.summary));
        }),
        r.decisions.length ? el("h3", { class: "fb-rh", lang: words }, t.we_did) : null,
        r.decisions.map(function (d) {
          return el("article", { class: "fb-rd fb-rd-" + d.status }, el("h4", {}, d.title),
            el("p", { class: "fb-rmeta", lang: words }, d.status_text + " · " +
              new Date(d.decided_on).toLocaleDateString(r.locale, { dateStyle: "long", timeZone: "UTC" })),
            d.description ? el("p", {}, d.description) : null,
            d.findings.length ? [el("p", { lang: words }, t.in_answer_to), list(d.findings, function (f) { return el("li", {}, f.sentence); })] : null);
        })].flat().filter(Boolean));
    } catch (e) {
      root.replaceChildren(el("p", { class: "fb-status", role: "status" }, t.results_failed));
    } finally {
      root.removeAttribute("aria-busy");
    }
  }

  function start() {
    if (!document.querySelector("link[data-fb-css]")) {
      document.head.append(el("link", { rel: "stylesheet", href: BASE + "/form.css", "data-fb-css": true }));
    }
    document.querySelectorAll("[data-feedback-survey]").forEach(mount);
    document.querySelectorAll("[data-feedback-results]").forEach(results);
    flush();
  }
  window.addEventListener("online", flush);
  window.feedbackEmbed = { mount: mount, flush: flush, results: results };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

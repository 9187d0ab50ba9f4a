// The dashboard's chart, drawn as SVG from the protected api/data endpoint.
//
// When the session has ended, entraweb answers the fetch with 401 JSON
// holding a login_url (a fetch asking for JSON never gets a redirect to a
// sign-in page). The page then goes to that sign-in with this page as the
// place to come back to. A marker in sessionStorage stops a loop: if the
// data is still refused soon after such a trip, the page shows a sign-in
// link instead of going round again.
"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var MARK = "entraweb-demo:dash-signin";
  var LOOP_WINDOW_MS = 60 * 1000;
  var REFRESH_MS = 30 * 1000;
  var timer = null;

  function $(id) { return document.getElementById(id); }

  function setState(state, text) {
    document.body.dataset.state = state;
    $("status").textContent = text;
  }

  function el(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) { e.setAttribute(k, String(attrs[k])); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function niceMax(v) {
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * p >= v) { return steps[i] * p; } }
    return 10 * p;
  }

  var last = null;

  // draw fits the chart to its box in CSS pixels, so its text keeps its
  // size on a phone; a narrow chart drops the labels above the bars.
  function draw(data) {
    last = data;
    var W = Math.max(280, Math.round($("chart").clientWidth || 720));
    var narrow = W < 520;
    var H = narrow ? 260 : 340, L = 48, R = 8, T = 16, B = 32;
    var pts = data.points || [];
    var max = niceMax(Math.max.apply(null, pts.map(function (p) { return p.value; }).concat([1])));
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "chart-svg-title chart-svg-desc", "data-points": pts.length });
    svg.appendChild(el("title", { id: "chart-svg-title" }, data.title));
    svg.appendChild(el("desc", { id: "chart-svg-desc" }, pts.map(function (p) { return p.label + ": " + p.value; }).join(", ")));
    var plotH = H - T - B, plotW = W - L - R;
    for (var g = 0; g <= 4; g++) {
      var y = T + plotH - plotH * g / 4;
      svg.appendChild(el("line", { x1: L, x2: W - R, y1: y, y2: y, "class": "grid-line" }));
      svg.appendChild(el("text", { x: L - 8, y: y + 4, "text-anchor": "end", "class": "axis-label" }, Math.round(max * g / 4).toLocaleString()));
    }
    var slot = plotW / Math.max(pts.length, 1), bw = slot * 0.62;
    pts.forEach(function (p, i) {
      var h = plotH * p.value / max, x = L + i * slot + (slot - bw) / 2, y = T + plotH - h;
      var bar = el("rect", { x: x, y: y, width: bw, height: Math.max(h, 0), rx: 3, "class": "bar" });
      bar.appendChild(el("title", {}, p.label + ": " + p.value.toLocaleString() + " " + data.unit));
      svg.appendChild(bar);
      if (!narrow) {
        svg.appendChild(el("text", { x: x + bw / 2, y: y - 5, "text-anchor": "middle", "class": "bar-value" }, p.value.toLocaleString()));
      }
      var label = narrow ? p.label.slice(0, 1) : p.label;
      svg.appendChild(el("text", { x: x + bw / 2, y: H - B + 18, "text-anchor": "middle", "class": "axis-label" }, label));
    });
    var chart = $("chart");
    chart.replaceChildren(svg);

    var total = pts.reduce(function (s, p) { return s + p.value; }, 0);
    var best = pts.reduce(function (b, p) { return p.value > b.value ? p : b; }, pts[0] || { label: "—", value: 0 });
    $("kpi-total").textContent = total.toLocaleString();
    $("kpi-best").textContent = best.label + " · " + best.value.toLocaleString();
    $("kpi-avg").textContent = pts.length ? Math.round(total / pts.length).toLocaleString() : "—";
    $("chart-title").textContent = data.title;
    if (data.user) { $("navbar-user").textContent = data.user; }
    var rows = $("data-rows");
    rows.replaceChildren();
    pts.forEach(function (p) {
      var tr = document.createElement("tr"), a = document.createElement("td"), b = document.createElement("td");
      a.textContent = p.label; b.textContent = p.value.toLocaleString();
      tr.append(a, b); rows.appendChild(tr);
    });
    setState("ready", "Updated " + new Date(data.updated).toLocaleTimeString() + ". Refreshes every 30 seconds.");
  }

  // signInURL turns the login_url of a 401 into a sign-in that comes back
  // to this page rather than to the JSON endpoint. Only this origin's
  // sign-in is followed.
  function signInURL(loginURL) {
    try {
      var u = new URL(loginURL, location.href);
      if (u.origin !== location.origin) { return null; }
      u.searchParams.set("return", location.pathname + location.search);
      return u.href;
    } catch (e) {
      return null;
    }
  }

  function needSignIn(body) {
    var target = signInURL(body && body.login_url);
    var last = Number(sessionStorage.getItem(MARK) || 0);
    if (target && Date.now() - last > LOOP_WINDOW_MS) {
      sessionStorage.setItem(MARK, String(Date.now()));
      setState("signing-in", "Your session has ended. Signing you in again…");
      location.assign(target);
      return;
    }
    stop();
    // Signed in a moment ago and refused again (cookies blocked, or a
    // role taken away): ask the person instead of looping.
    var p = document.createElement("p");
    p.className = "dash-alert";
    p.setAttribute("role", "alert");
    p.append("Your session could not be renewed. ");
    var a = document.createElement("a");
    a.href = target || "../auth/login?return=" + encodeURIComponent(location.pathname);
    a.id = "sign-in-again";
    a.textContent = "Sign in again";
    a.addEventListener("click", function () { sessionStorage.removeItem(MARK); });
    p.append(a);
    $("chart").replaceChildren(p);
    setState("signed-out", "Not signed in.");
  }

  function load() {
    setState(document.body.dataset.state === "ready" ? "refreshing" : "loading", "Loading the data…");
    fetch("api/data", { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (resp.status === 401) {
          return resp.json().catch(function () { return {}; }).then(needSignIn);
        }
        if (!resp.ok) { throw new Error("HTTP " + resp.status); }
        return resp.json().then(function (data) {
          sessionStorage.removeItem(MARK);
          draw(data);
        });
      })
      .catch(function (err) {
        setState("error", "Could not load the data (" + err.message + "); retrying in 30 seconds.");
      });
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("refresh").addEventListener("click", load);
    var resized = null;
    window.addEventListener("resize", function () {
      clearTimeout(resized);
      resized = setTimeout(function () { if (last) { draw(last); } }, 150);
    });
    load();
    timer = setInterval(load, REFRESH_MS);
  });
})();

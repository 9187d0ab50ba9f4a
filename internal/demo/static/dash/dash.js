// The dashboard's script. It reads the filters, fetches api/data (a JSON
// endpoint protected with the rest of /dash/) and draws, from that one
// answer, the key figures, a bar chart of each group's total, a line
// chart of each group per month and a table of the totals. Changing a
// filter fetches again, as a Dash callback would, and keeps the filters
// in the address, so a reload or a new sign-in comes back to them.
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
  var last = null; // the last answer drawn, to redraw on resize
  var latest = 0; // the number of the latest request: older answers are dropped
  var num = new Intl.NumberFormat();
  var pct = new Intl.NumberFormat(undefined, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });

  function $(id) { return document.getElementById(id); }

  function setState(state, text) {
    document.body.dataset.state = state;
    if (text !== undefined) { $("status").textContent = text; }
  }

  function el(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) { e.setAttribute(k, String(attrs[k])); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function html(name, cls, text) {
    var e = document.createElement(name);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  // scale picks about four grid steps of 1, 2 or 5 times a power of ten
  // covering v, so the grid lines fall on round numbers.
  function scale(v) {
    var raw = Math.max(v, 1) / 4;
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * p; }).find(function (s) { return s >= raw; });
    return { step: step, max: Math.ceil(v / step) * step || step };
  }

  // short writes an axis figure compactly: 12,500 as 12.5k.
  function short(v) {
    if (v >= 1e6) { return (v / 1e6).toLocaleString(undefined, { maximumFractionDigits: 1 }) + "M"; }
    if (v >= 1e3) { return (v / 1e3).toLocaleString(undefined, { maximumFractionDigits: 1 }) + "k"; }
    return String(v);
  }

  function monthName(m) { return m.label + " " + m.year; }

  function chartSVG(id, width, height, title, desc) {
    var svg = el("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img", "aria-labelledby": id + "-t " + id + "-d" });
    svg.appendChild(el("title", { id: id + "-t" }, title));
    svg.appendChild(el("desc", { id: id + "-d" }, desc));
    return svg;
  }

  // byTotal is the groups, largest first: the bars and the table share
  // this order. Each keeps the index of its colour.
  function byTotal(data) {
    return data.series.map(function (s, i) { return { name: s.name, total: s.total, color: i }; })
      .sort(function (a, b) { return b.total - a.total; });
  }

  // drawBars draws a horizontal bar per group: long names stay readable
  // on a phone. Beside the line chart it takes the same height.
  function drawBars(data, rows, height) {
    var box = $("bars");
    var W = Math.max(260, Math.round(box.clientWidth || 400));
    var L = Math.min(130, Math.round(W * 0.34)), R = 56, T = 4, B = 24;
    var H = Math.max(T + rows.length * 44 + B, height || 0);
    var rowH = (H - T - B) / rows.length, barH = Math.min(rowH - 14, 32), plotW = W - L - R;
    var sc = scale(Math.max.apply(null, rows.map(function (r) { return r.total; })));
    var svg = chartSVG("bars-svg", W, H, $("bars-title").textContent,
      rows.map(function (r) { return r.name + ": " + num.format(r.total); }).join(", "));
    for (var v = 0; v <= sc.max; v += sc.step) {
      var x = L + plotW * v / sc.max;
      svg.appendChild(el("line", { x1: x, x2: x, y1: T, y2: H - B, "class": "grid-line" }));
      svg.appendChild(el("text", { x: x, y: H - 6, "text-anchor": "middle", "class": "axis-label" }, short(v)));
    }
    rows.forEach(function (r, i) {
      var mid = T + (i + 0.5) * rowH, w = Math.max(plotW * r.total / sc.max, 1);
      svg.appendChild(el("text", { x: L - 8, y: mid + 4, "text-anchor": "end", "class": "bar-label" }, r.name));
      var bar = el("rect", { x: L, y: mid - barH / 2, width: w, height: barH, rx: 3, "class": "bar c" + r.color, "data-name": r.name, "data-value": r.total });
      bar.appendChild(el("title", {}, r.name + ": " + num.format(r.total) + " " + data.unit));
      svg.appendChild(bar);
      svg.appendChild(el("text", { x: L + w + 6, y: mid + 4, "class": "bar-value" }, short(r.total)));
    });
    box.replaceChildren(svg);
  }

  // drawLines draws a line per group over the months. Month labels are
  // never cut to an initial: when they do not fit, every second (or
  // third...) month is labelled, counting back from the last, and the
  // year is written under the first label and under each new year's.
  function drawLines(data) {
    var box = $("lines");
    var months = data.months;
    var W = Math.max(260, Math.round(box.clientWidth || 600));
    var H = W < 480 ? 240 : 290, L = 44, R = 14, T = 10, B = 44;
    var plotW = W - L - R, plotH = H - T - B;
    var sc = scale(Math.max.apply(null, data.series.map(function (s) { return Math.max.apply(null, s.values); })));
    var yAt = function (v) { return T + plotH - plotH * v / sc.max; };
    var svg = chartSVG("lines-svg", W, H, $("lines-title").textContent, data.series.map(function (s) {
      return s.name + ": " + s.values.map(function (v, i) { return monthName(months[i]) + " " + num.format(v); }).join(", ");
    }).join("; "));
    for (var v = 0; v <= sc.max; v += sc.step) {
      svg.appendChild(el("line", { x1: L, x2: W - R, y1: yAt(v), y2: yAt(v), "class": "grid-line" }));
      svg.appendChild(el("text", { x: L - 8, y: yAt(v) + 4, "text-anchor": "end", "class": "axis-label" }, short(v)));
    }
    var n = months.length;
    var step = n > 1 ? plotW / (n - 1) : 0;
    var xAt = function (i) { return n > 1 ? L + i * step : L + plotW / 2; };
    var every = n > 1 ? Math.max(1, Math.ceil(36 / step)) : 1;
    var ticks = el("g", { "class": "month-axis" });
    var shownYear = null;
    for (var i = 0; i < n; i++) {
      if ((n - 1 - i) % every !== 0) { continue; }
      var m = months[i];
      ticks.appendChild(el("text", { x: xAt(i), y: H - B + 18, "text-anchor": "middle", "class": "axis-label month-label", "data-month": m.key }, m.label));
      if (m.year !== shownYear) {
        ticks.appendChild(el("text", { x: xAt(i), y: H - B + 33, "text-anchor": "middle", "class": "axis-year" }, String(m.year)));
        shownYear = m.year;
      }
    }
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: T + plotH, y2: T + plotH, "class": "axis-line" }));
    svg.appendChild(ticks);
    data.series.forEach(function (s, si) {
      var g = el("g", { "class": "series c" + si, "data-name": s.name });
      var d = s.values.map(function (v, i) { return (i ? "L" : "M") + xAt(i).toFixed(1) + " " + yAt(v).toFixed(1); }).join(" ");
      g.appendChild(el("path", { d: d, "class": "line" }));
      // Dots only where they stand apart; the table and the bars carry
      // the figures too.
      s.values.forEach(function (v, i) {
        if (step < 16 && n > 1) { return; }
        var dot = el("circle", { cx: xAt(i).toFixed(1), cy: yAt(v).toFixed(1), r: 3.5, "class": "dot" });
        dot.appendChild(el("title", {}, s.name + ", " + monthName(months[i]) + ": " + num.format(v) + " " + data.unit));
        g.appendChild(dot);
      });
      svg.appendChild(g);
    });
    box.replaceChildren(svg);

    var legend = $("legend");
    legend.replaceChildren();
    data.series.forEach(function (s, si) { legend.appendChild(html("li", "c" + si, s.name)); });
  }

  function drawTable(data, rows, grand) {
    $("group-heading").textContent = data.groupLabel;
    var body = $("data-rows");
    body.replaceChildren();
    var n = data.months.length;
    rows.forEach(function (r) {
      var tr = html("tr");
      var th = html("th");
      th.scope = "row";
      th.append(html("span", "swatch c" + r.color), r.name);
      tr.append(th,
        html("td", "num", num.format(r.total)),
        html("td", "num", pct.format(grand ? r.total / grand : 0)),
        html("td", "num", num.format(Math.round(r.total / n))));
      body.appendChild(tr);
    });
    var foot = html("tr");
    var th = html("th", "", "Total");
    th.scope = "row";
    foot.append(th, html("td", "num", num.format(grand)), html("td", "num", pct.format(1)), html("td", "num", num.format(Math.round(grand / n))));
    $("data-total").replaceChildren(foot);
  }

  function drawKPIs(data, rows, grand) {
    var n = data.months.length;
    var perMonth = data.months.map(function (m, i) {
      return data.series.reduce(function (sum, s) { return sum + s.values[i]; }, 0);
    });
    var busiest = perMonth.indexOf(Math.max.apply(null, perMonth));
    $("kpi-total").textContent = num.format(grand);
    $("kpi-top-label").textContent = "Top " + data.groupLabel.toLowerCase();
    var top = $("kpi-top");
    top.replaceChildren(rows[0].name, html("small", "", pct.format(rows[0].total / grand)));
    $("kpi-avg").textContent = num.format(Math.round(grand / n));
    var best = $("kpi-busiest");
    best.replaceChildren(monthName(data.months[busiest]), html("small", "", short(perMonth[busiest])));
  }

  function draw(data) {
    last = data;
    var first = data.months[0], end = data.months[data.months.length - 1];
    var range = first.key === end.key ? monthName(first) : monthName(first) + " – " + monthName(end);
    var by = data.groupLabel.toLowerCase();
    $("bars-title").textContent = "Total by " + by + ", " + range;
    $("lines-title").textContent = "Per month by " + by;
    var rows = byTotal(data);
    var grand = rows.reduce(function (sum, r) { return sum + r.total; }, 0);
    drawLines(data);
    // Side by side, the bar chart matches the line chart and its legend.
    var a = $("bars").closest("figure"), b = $("lines").closest("figure");
    drawBars(data, rows, a.offsetTop === b.offsetTop ? $("lines").offsetHeight + $("legend").offsetHeight + 8 : 0);
    drawTable(data, rows, grand);
    drawKPIs(data, rows, grand);
    if (data.user) { $("navbar-user").textContent = data.user; }
    $("notice").replaceChildren();
    var at = new Date(data.updated).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    setState("ready", "Updated at " + at + "; refreshes every 30 seconds.");
  }

  function showNotice(children) {
    var p = html("p", "dash-alert");
    p.setAttribute("role", "alert");
    p.append.apply(p, children);
    $("notice").replaceChildren(p);
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
    var a = html("a", "", "Sign in again");
    a.href = target || "../auth/login?return=" + encodeURIComponent(location.pathname + location.search);
    a.id = "sign-in-again";
    a.addEventListener("click", function () { sessionStorage.removeItem(MARK); });
    showNotice(["Your session could not be renewed. ", a]);
    setState("signed-out", "Not signed in.");
  }

  function query() {
    var f = $("filters").elements;
    return new URLSearchParams({ from: f.from.value, to: f.to.value, group: f.group.value });
  }

  // load fetches the data for the filters. A background refresh keeps
  // the status line as it is until the answer is drawn.
  function load(background) {
    var id = ++latest;
    var q = query();
    if (background) {
      document.body.dataset.state = "refreshing";
    } else {
      setState(document.body.dataset.state === "loading" ? "loading" : "refreshing", "Loading the data…");
    }
    fetch("api/data?" + q, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (id !== latest) { return; }
        if (resp.status === 401) {
          return resp.json().catch(function () { return {}; }).then(needSignIn);
        }
        if (resp.status === 400) {
          // The server checks the filters; it says what it refused.
          return resp.json().catch(function () { return {}; }).then(function (body) {
            if (id !== latest) { return; }
            showNotice(["These filters were refused: " + (body.message || "bad request") + "."]);
            setState("invalid", "Choose other filters.");
          });
        }
        if (!resp.ok) { throw new Error("HTTP " + resp.status); }
        return resp.json().then(function (data) {
          if (id !== latest) { return; }
          sessionStorage.removeItem(MARK);
          draw(data);
        });
      })
      .catch(function (err) {
        if (id !== latest) { return; }
        setState("error", "Could not load the data (" + err.message + "); retrying in 30 seconds.");
      });
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = $("filters");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      load(false);
    });
    form.addEventListener("change", function () {
      history.replaceState(null, "", "?" + query());
      load(false);
    });
    var resized = null;
    window.addEventListener("resize", function () {
      clearTimeout(resized);
      resized = setTimeout(function () { if (last) { draw(last); } }, 150);
    });
    load(false);
    timer = setInterval(function () { load(true); }, REFRESH_MS);
  });
})();

package demo_test

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/chromedp/chromedp"
)

// What the browser tests read from the pages: the dashboard's parts, and
// how a page sits in a phone's viewport.

// box is where an element sits, across the viewport.
type box struct {
	Text    string  `json:"text"`
	Left    float64 `json:"left"`
	Right   float64 `json:"right"`
	Clipped bool    `json:"clipped"`
}

func countDisabled(st *stack) int {
	n := 0
	for _, u := range st.emu.Config().Tenants[0].Users {
		if u.Disabled {
			n++
		}
	}
	return n
}

// noSidewaysScroll fails the test when the page is wider than the
// viewport, naming the elements that stick out.
func (b *tab) noSidewaysScroll(page string) {
	b.t.Helper()
	type width struct {
		Page     int      `json:"page"`
		Viewport int      `json:"viewport"`
		Wide     []string `json:"wide"`
	}
	w := run(b, "measuring "+page, chromedp.Evaluate[width](`({
		page: document.documentElement.scrollWidth, viewport: window.innerWidth,
		wide: [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
			.map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + e.className.split(" ").join(".") : "")).slice(0, 8)
	})`))
	if w.Page > w.Viewport {
		b.t.Errorf("%s is %d px wide in a %d px viewport, so it scrolls sideways; sticking out: %v", page, w.Page, w.Viewport, w.Wide)
	}
}

// pick chooses a month in one of the dashboard's lists, as a person does:
// the list changes, then tells the page.
func (b *tab) pick(list, month string) {
	b.t.Helper()
	b.do("choosing "+month+" in "+list, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(s => { s.value = %q; if (s.value !== %q) throw new Error("no option %s"); s.dispatchEvent(new Event("change", {bubbles: true})) })(document.getElementById(%q))`,
		month, month, month, list)))
}

// dashDOM is what the dashboard shows, read from the page.
type dashDOM struct {
	Bars []struct {
		Name  string `json:"name"`
		Value int    `json:"value"`
	} `json:"bars"`
	Rows []struct {
		Name  string `json:"name"`
		Total string `json:"total"`
	} `json:"rows"`
	Months    []string `json:"months"`
	FirstKey  string   `json:"firstKey"`
	Lines     []string `json:"lines"`
	Legend    []string `json:"legend"`
	KPITotal  string   `json:"kpiTotal"`
	TableSum  string   `json:"tableSum"`
	APITotals []struct {
		Name  string `json:"name"`
		Total int    `json:"total"`
	} `json:"apiTotals"`
}

// checkDash reads the dashboard and checks its parts agree: the bars,
// the table and the key figures show the groups' totals that api/data
// answers for query (the filters drawn), the line chart has a line per
// group and the months wanted.
func (b *tab) checkDash(what, query string, groups, months []string) {
	b.t.Helper()
	q, _ := url.ParseQuery(query)
	d := run(b, "reading the dashboard", chromedp.Evaluate[dashDOM](`(async () => {
		const api = await (await fetch("api/data?`+query+`", {headers: {Accept: "application/json"}})).json();
		const labels = [...document.querySelectorAll("#lines .month-label")];
		return {
			bars: [...document.querySelectorAll("#bars rect.bar")].map(r => ({name: r.dataset.name, value: Number(r.dataset.value)})),
			rows: [...document.querySelectorAll("#data-rows tr")].map(tr => ({name: tr.querySelector("th").textContent, total: tr.querySelector("td").textContent})),
			months: labels.map(t => t.textContent),
			firstKey: labels.length ? labels[0].dataset.month : "",
			lines: [...document.querySelectorAll("#lines g.series")].map(g => g.dataset.name),
			legend: [...document.querySelectorAll("#legend li")].map(li => li.textContent),
			kpiTotal: document.getElementById("kpi-total").textContent,
			tableSum: document.querySelector("#data-total td").textContent,
			apiTotals: api.series.map(s => ({name: s.name, total: s.total})),
		};
	})()`, chromedp.EvalAwaitPromise))
	digits := func(s string) int {
		n, _ := strconv.Atoi(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s))
		return n
	}
	api := map[string]int{}
	sum := 0
	for _, s := range d.APITotals {
		api[s.Name] = s.Total
		sum += s.Total
	}
	var barNames []string
	for i, bar := range d.Bars {
		barNames = append(barNames, bar.Name)
		if bar.Value != api[bar.Name] {
			b.t.Errorf("%s: the bar of %s shows %d, api/data says %d", what, bar.Name, bar.Value, api[bar.Name])
		}
		if i > 0 && bar.Value > d.Bars[i-1].Value {
			b.t.Errorf("%s: the bars are not largest first: %+v", what, d.Bars)
		}
		if i >= len(d.Rows) || d.Rows[i].Name != bar.Name || digits(d.Rows[i].Total) != bar.Value {
			b.t.Errorf("%s: the table %+v does not match the bars %+v", what, d.Rows, d.Bars)
			break
		}
	}
	if len(d.Rows) != len(d.Bars) {
		b.t.Errorf("%s: %d table rows for %d bars", what, len(d.Rows), len(d.Bars))
	}
	if !slices.Equal(slices.Sorted(slices.Values(barNames)), slices.Sorted(slices.Values(groups))) {
		b.t.Errorf("%s: bars for %v, want %v", what, barNames, groups)
	}
	if !slices.Equal(d.Lines, groups) || !slices.Equal(d.Legend, groups) {
		b.t.Errorf("%s: lines %v and legend %v, want %v", what, d.Lines, d.Legend, groups)
	}
	if !slices.Equal(d.Months, months) || d.FirstKey != q.Get("from") {
		b.t.Errorf("%s: month axis %v from %s, want %v from %s", what, d.Months, d.FirstKey, months, q.Get("from"))
	}
	if digits(d.KPITotal) != sum || digits(d.TableSum) != sum {
		b.t.Errorf("%s: total %s in the key figures and %s in the table, api/data says %d", what, d.KPITotal, d.TableSum, sum)
	}
}

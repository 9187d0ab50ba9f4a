package demo_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/internal/demo"
)

// These tests call the dashboard's handler directly, with the user that
// RequireLogin would have put in the request's context.

type dashAnswer struct {
	User       string
	From, To   string
	Group      string
	GroupLabel string
	Months     []struct {
		Key, Label string
		Year       int
	}
	Series []struct {
		Name   string
		Values []int
		Total  int
	}
	Updated string
	// A refusal's fields.
	Error    string
	Message  string
	Problems []string
}

func getDash(t *testing.T, now time.Time, target string) (*httptest.ResponseRecorder, dashAnswer) {
	t.Helper()
	h := demo.Dashboard(demo.DashboardOptions{Now: func() time.Time { return now }})
	r := httptest.NewRequest("GET", target, nil)
	r = r.WithContext(entraweb.WithUser(r.Context(), &entraweb.User{Name: "Alice Admin", Username: "alice@contoso.example"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var a dashAnswer
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v\n%s", target, err, w.Body)
		}
	}
	return w, a
}

// TestDashboardMonthsOnTheLastDay: on the 29th to the 31st, counting
// months back from the day itself overflows (31 March minus a month is
// 3 March), and the axis read "Jan Mar Mar May...". The default range is
// the last 12 months, each once, in order, ending with the current one.
func TestDashboardMonthsOnTheLastDay(t *testing.T) {
	for _, tc := range []struct {
		now   time.Time
		first string // the first month's key
		want  []string
	}{
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "2026-01",
			[]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}},
		{time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC), "2025-04",
			[]string{"Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"}},
		{time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), "2027-03",
			[]string{"Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb"}},
		// 1 June, 01:00 in Paris, is still 31 May in UTC: the months
		// follow UTC, as the answer's keys do.
		{time.Date(2026, 6, 1, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), "2025-06",
			[]string{"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May"}},
	} {
		t.Run(tc.now.Format(time.RFC3339), func(t *testing.T) {
			w, a := getDash(t, tc.now, "/api/data")
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			first, err := time.Parse("2006-01", tc.first)
			if err != nil {
				t.Fatal(err)
			}
			var labels []string
			for i, m := range a.Months {
				labels = append(labels, m.Label)
				// Consecutive: the i-th month is i months after the first.
				want := first.AddDate(0, i, 0)
				if m.Key != want.Format("2006-01") || m.Year != want.Year() || m.Label != want.Format("Jan") {
					t.Errorf("month %d is %+v, want %s", i, m, want.Format("2006-01"))
				}
			}
			if !slices.Equal(labels, tc.want) {
				t.Errorf("month labels %v, want %v", labels, tc.want)
			}
			if len(slices.Compact(slices.Sorted(slices.Values(labels)))) != 12 {
				t.Errorf("month labels %v are not 12 distinct months", labels)
			}
			if a.To != tc.now.UTC().Format("2006-01") {
				t.Errorf("the range ends with %s, want the current month", a.To)
			}
		})
	}
}

func TestDashboardData(t *testing.T) {
	now := time.Date(2026, 6, 15, 9, 30, 0, 0, time.UTC)
	regions := []string{"Europe", "North America", "Asia Pacific", "Latin America"}
	apps := []string{"Portal", "Reports", "Mobile", "Admin console", "API"}
	for _, tc := range []struct {
		query        string
		from, to     string
		months       int
		groups       []string
		label, group string
	}{
		{"", "2025-07", "2026-06", 12, regions, "Region", "region"},
		{"?group=app", "2025-07", "2026-06", 12, apps, "App", "app"},
		{"?from=2026-01&to=2026-03&group=region", "2026-01", "2026-03", 3, regions, "Region", "region"},
		{"?from=2024-07&to=2026-06", "2024-07", "2026-06", 24, regions, "Region", "region"},
		{"?from=2026-06&to=2026-06&group=app", "2026-06", "2026-06", 1, apps, "App", "app"},
		{"?to=2025-12", "2025-07", "2025-12", 6, regions, "Region", "region"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w, a := getDash(t, now, "/api/data"+tc.query)
			if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("status %d, Cache-Control %q: %s", w.Code, w.Header().Get("Cache-Control"), w.Body)
			}
			if a.From != tc.from || a.To != tc.to || a.Group != tc.group || a.GroupLabel != tc.label || len(a.Months) != tc.months {
				t.Errorf("got %s to %s (%d months) by %s/%s, want %s to %s (%d) by %s/%s",
					a.From, a.To, len(a.Months), a.Group, a.GroupLabel, tc.from, tc.to, tc.months, tc.group, tc.label)
			}
			if a.User != "Alice Admin" || a.Updated != "2026-06-15T09:30:00Z" {
				t.Errorf("user %q, updated %q", a.User, a.Updated)
			}
			var names []string
			for _, s := range a.Series {
				names = append(names, s.Name)
				sum := 0
				for _, v := range s.Values {
					if v <= 0 {
						t.Errorf("%s: a value of %d", s.Name, v)
					}
					sum += v
				}
				if len(s.Values) != len(a.Months) || sum != s.Total {
					t.Errorf("%s: %d values summing to %d for %d months, total %d", s.Name, len(s.Values), sum, len(a.Months), s.Total)
				}
			}
			if !slices.Equal(names, tc.groups) {
				t.Errorf("groups %v, want %v", names, tc.groups)
			}
			// The same question gets the same answer: nothing is random.
			if w2, _ := getDash(t, now, "/api/data"+tc.query); w2.Body.String() != w.Body.String() {
				t.Errorf("two answers differ:\n%s\n%s", w.Body, w2.Body)
			}
		})
	}

	t.Run("a month keeps its figure in every range", func(t *testing.T) {
		_, year := getDash(t, now, "/api/data?from=2025-07&to=2026-06&group=app")
		_, one := getDash(t, now, "/api/data?from=2026-03&to=2026-03&group=app")
		for i, s := range one.Series {
			if got, want := s.Values[0], year.Series[i].Values[8]; got != want {
				t.Errorf("%s in March 2026: %d alone, %d in the year", s.Name, got, want)
			}
		}
		// and a later clock does not change the past.
		_, later := getDash(t, now.AddDate(0, 5, 0), "/api/data?from=2026-03&to=2026-03&group=app")
		if !slices.EqualFunc(later.Series, one.Series, func(a, b struct {
			Name   string
			Values []int
			Total  int
		}) bool {
			return a.Name == b.Name && a.Total == b.Total
		}) {
			t.Errorf("March 2026 changed when the clock moved on: %+v, then %+v", one.Series, later.Series)
		}
	})
}

func TestDashboardRefusesBadParameters(t *testing.T) {
	now := time.Date(2026, 6, 15, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		query string
		want  []string // in the message, in this order
	}{
		{"?from=2026-13", []string{`from: "2026-13" is not a month`}},
		{"?from=2026-1", []string{`from: "2026-1" is not a month`}},
		{"?to=June", []string{`to: "June" is not a month`}},
		{"?from=2024-06", []string{"from: 2024-06 is not offered (from 2024-07 to 2026-06)"}},
		{"?to=2026-07", []string{"to: 2026-07 is not offered"}},
		{"?from=2026-03&to=2026-01", []string{"to: 2026-01 is before from, 2026-03"}},
		{"?group=country", []string{`group: "country" is not one of region, app`}},
		{"?group=", nil}, // empty means the default: accepted
		{"?group=app&group=region", []string{"group is given more than once"}},
		{"?month=2026-01", []string{`"month" is not a parameter`}},
		{"?from=x&group=y", []string{`from: "x"`, `group: "y"`}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w, a := getDash(t, now, "/api/data"+tc.query)
			if tc.want == nil {
				if w.Code != http.StatusOK {
					t.Errorf("status %d: %s", w.Code, w.Body)
				}
				return
			}
			if w.Code != http.StatusBadRequest || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("status %d, %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			if a.Error != "invalid_parameters" || len(a.Problems) != len(tc.want) || a.Months != nil {
				t.Errorf("answer %s", w.Body)
			}
			rest := a.Message
			for _, want := range tc.want {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("message %q lacks %q", a.Message, want)
				}
				rest = rest[i+len(want):]
			}
		})
	}
}

func TestDashboardPage(t *testing.T) {
	now := time.Date(2026, 6, 15, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		query, from, to, group string
	}{
		{"", "2025-07", "2026-06", "region"},
		{"?from=2026-01&to=2026-04&group=app", "2026-01", "2026-04", "app"},
		// An address with a bad query opens on the defaults.
		{"?from=2026-04&to=2026-01&group=app", "2025-07", "2026-06", "region"},
		{"?group=nonsense", "2025-07", "2026-06", "region"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w, _ := getDash(t, now, "/"+tc.query)
			body := w.Body.String()
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			for _, want := range []string{
				`<option value="` + tc.from + `" selected>`,
				`<option value="` + tc.to + `" selected>`,
				`value="` + tc.group + `" id="group-` + tc.group + `" checked>`,
				`id="navbar-user" title="alice@contoso.example">Alice Admin</span>`,
				// Without Auth the button opens entraweb's confirmation page.
				`method="get" action="../auth/logout"`,
				// 24 months on offer, in each of the two lists.
				`<option value="2024-07">Jul 2024</option>`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %s", want)
				}
			}
			if n := strings.Count(body, "<option "); n != 48 {
				t.Errorf("%d options, want 24 months in each list", n)
			}
			if n := strings.Count(body, " selected>"); n != 2 {
				t.Errorf("%d selected options, want 2", n)
			}
		})
	}
}

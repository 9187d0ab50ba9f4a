package demo

import (
	"hash/fnv"
	"math"
	"time"
)

// The dashboard's data is made up, but not at random: the figure for a
// group in a month is computed from the two alone, so every request, every
// process and every screenshot shows the same numbers for the same
// filters, and a month keeps its figure when the range around it changes.

// grouping is a way the dashboard can split the sign-ins.
type grouping struct {
	Key   string   // the value of the group parameter
	Label string   // the table's column heading
	Names []string // the groups, in the order their colours follow
}

var groupings = []grouping{
	{"region", "Region", []string{"Europe", "North America", "Asia Pacific", "Latin America"}},
	{"app", "App", []string{"Portal", "Reports", "Mobile", "Admin console", "API"}},
}

// Months on offer: the last offeredMonths up to the current one; the
// dashboard opens on the last defaultMonths.
const (
	offeredMonths = 24
	defaultMonths = 12
)

// monthsUpTo returns the n months ending with now's, oldest first, each as
// the first instant of the month in UTC. Counting from the first of the
// month matters: from the 29th to the 31st, time.AddDate on the day itself
// overflows into the next month (31 March minus a month is "31 February",
// which is 3 March), and the axis repeats one month and skips another.
func monthsUpTo(now time.Time, n int) []time.Time {
	y, m, _ := now.UTC().Date()
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = first.AddDate(0, i-(n-1), 0)
	}
	return out
}

// monthKey is a month as the API's parameters and answers write it.
func monthKey(m time.Time) string { return m.Format("2006-01") }

// signIns is the made-up number of sign-ins of the group called name in
// month m: a size of its own, a seasonal swing with its own phase, slow
// growth over the years and a little noise, all derived from name and m.
func signIns(m time.Time, name string) int {
	size := 900 + float64(hash(name)%1600)
	phase := float64(hash("phase:"+name)%12) / 12 * 2 * math.Pi
	season := 1 + 0.22*math.Sin(2*math.Pi*float64(m.Month()-1)/12+phase)
	sinceStart := float64((m.Year()-2020)*12 + int(m.Month()) - 1)
	growth := math.Max(0.5, 1+0.008*sinceStart)
	noise := 0.92 + 0.16*float64(hash(monthKey(m)+":"+name)%1000)/1000
	return int(math.Round(size * season * growth * noise))
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

package views

import (
	"strconv"
	"testing"
)

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int64]int64{0: 2, 1: 2, 2: 2, 3: 5, 6: 10, 10: 10, 11: 20, 45: 50, 51: 100, 999: 1000, 1001: 2000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestBarChartGeometry(t *testing.T) {
	series := []ChartSeries{{"ok", "a"}, {"errors", "b"}}
	points := []ChartPoint{
		{Label: "10:00", Values: []int64{3, 1}},
		{Label: "10:01", Values: []int64{0, 0}},
		{Label: "10:02", Values: []int64{8, 2}},
		{Label: "10:03", Values: []int64{5, 0}},
	}
	c := NewBarChart("c", "Requests", "", series, points, 2)
	if c.Empty || len(c.Bars) != 4 {
		t.Fatalf("empty %v, %d bars", c.Empty, len(c.Bars))
	}
	// The tallest stack (10) fills the plot exactly: the scale is 10.
	if c.Grid[2].Label != "10" || c.Grid[1].Label != "5" || c.Grid[0].Label != "0" {
		t.Errorf("grid %+v", c.Grid)
	}
	tall := c.Bars[2]
	if len(tall.Parts) != 2 || num(t, tall.Parts[1].Y) != chartTop || num(t, tall.Parts[0].Y)+num(t, tall.Parts[0].H) != chartBottom {
		t.Errorf("tallest bar %+v", tall)
	}
	if h0, h1 := num(t, tall.Parts[0].H), num(t, tall.Parts[1].H); h0 != 4*h1 || tall.Parts[1].Class != "b" {
		t.Errorf("segments %v and %v, want 4:1", h0, h1)
	}
	if len(c.Bars[1].Parts) != 0 || c.Bars[1].Tip != "10:01 · ok 0 · errors 0" {
		t.Errorf("empty interval %+v", c.Bars[1])
	}
	// Bars stay inside the plot, left to right, without overlapping.
	prevEnd := float64(chartLeft)
	for _, b := range c.Bars {
		x, w := num(t, b.X), num(t, b.W)
		if x < prevEnd || w <= 0 || x+w > chartRight {
			t.Errorf("bar at %v width %v (previous ended at %v)", x, w, prevEnd)
		}
		prevEnd = x + w
	}
	// Every second point counted back from the newest is labelled; the newest ends at the edge.
	if len(c.XTicks) != 2 || c.XTicks[1].Label != "10:03" || c.XTicks[1].Anchor != "end" || c.XTicks[0].Label != "10:01" {
		t.Errorf("ticks %+v", c.XTicks)
	}

	if e := NewBarChart("e", "", "", series, []ChartPoint{{Label: "x", Values: []int64{0, 0}}}, 1); !e.Empty || e.Grid[2].Label != "2" {
		t.Errorf("empty chart %+v", e)
	}
}

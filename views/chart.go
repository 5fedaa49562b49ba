package views

import (
	"math"
	"strconv"
)

// Chart geometry, in SVG user units. The SVG scales to its container's width.
const (
	chartWidth   = 600
	chartHeight  = 180
	chartLeft    = 44  // room for the y-axis labels
	chartRight   = 596 // a little air after the last bar
	chartTop     = 12
	chartBottom  = 152 // the x axis; time labels below it
	chartLabelsY = 170
)

// ChartSeries is one stacked layer of a bar chart: its name for the legend and tooltips, and
// the CSS class that colours it.
type ChartSeries struct {
	Label string
	Class string
}

// ChartPoint is one interval: its time label (for tooltips and the axis) and one value per series.
type ChartPoint struct {
	Label  string
	Values []int64
}

// BarChart is a stacked bar chart drawn on the server as SVG, so it needs no script and swaps as
// one element (ID) in live updates.
type BarChart struct {
	ID      string
	Title   string
	Summary string
	Series  []ChartSeries
	Bars    []Bar
	// Grid are the horizontal lines with their value labels, bottom (0) to top (the scale's max).
	Grid   []GridLine
	XTicks []XTick
	// Empty is true when every value is 0; the chart still draws its axes.
	Empty bool
}

// Bar is one interval's stack.
type Bar struct {
	X, W  string
	Parts []BarPart
	// Tip is the tooltip: the interval and every series' value.
	Tip string
}

// BarPart is one series' segment of a bar.
type BarPart struct {
	Y, H  string
	Class string
}

// GridLine is a horizontal guide at Y with its value.
type GridLine struct {
	Y     string
	Label string
}

// XTick labels an interval under the axis.
type XTick struct {
	X      string
	Label  string
	Anchor string
}

// Viewbox is the SVG viewBox attribute.
func (BarChart) Viewbox() string {
	return "0 0 " + strconv.Itoa(chartWidth) + " " + strconv.Itoa(chartHeight)
}

// NewBarChart lays out points as stacked bars. Every labelEvery-th point (counted back from the
// newest, which is always labelled) gets an axis label.
func NewBarChart(id, title, summary string, series []ChartSeries, points []ChartPoint, labelEvery int) BarChart {
	return newBarChart(id, title, summary, series, points, labelEvery, Compact, Thousands)
}

// NewDollarChart is NewBarChart for values in micro-dollars: its axis and tooltips show dollars.
func NewDollarChart(id, title, summary string, series []ChartSeries, points []ChartPoint, labelEvery int) BarChart {
	return newBarChart(id, title, summary, series, points, labelEvery, USD, USD)
}

// newBarChart lays out the chart; axis formats the gridline values and tip the tooltips' values.
func newBarChart(id, title, summary string, series []ChartSeries, points []ChartPoint, labelEvery int, axis, tip func(int64) string) BarChart {
	ch := BarChart{ID: id, Title: title, Summary: summary, Series: series}
	var top int64
	for _, p := range points {
		var sum int64
		for _, v := range p.Values {
			sum += max(v, 0)
		}
		top = max(top, sum)
	}
	ch.Empty = top == 0
	scale := niceCeil(top)
	plotH := float64(chartBottom - chartTop)
	for i := 0; i <= 2; i++ {
		v := scale * int64(i) / 2
		y := chartBottom - plotH*float64(i)/2
		ch.Grid = append(ch.Grid, GridLine{Y: coord(y), Label: axis(v)})
	}
	n := len(points)
	if n == 0 {
		return ch
	}
	slot := float64(chartRight-chartLeft) / float64(n)
	gap := math.Min(slot*0.2, 2)
	if labelEvery <= 0 {
		labelEvery = n
	}
	for i, p := range points {
		x := chartLeft + slot*float64(i)
		b := Bar{X: coord(x + gap/2), W: coord(slot - gap), Tip: p.Label}
		y := float64(chartBottom)
		for j, v := range p.Values {
			if j < len(series) {
				b.Tip += " · " + series[j].Label + " " + tip(v)
			}
			if v <= 0 {
				continue
			}
			h := plotH * float64(v) / float64(scale)
			y -= h
			class := ""
			if j < len(series) {
				class = series[j].Class
			}
			b.Parts = append(b.Parts, BarPart{Y: coord(y), H: coord(h), Class: class})
		}
		ch.Bars = append(ch.Bars, b)
		if (n-1-i)%labelEvery == 0 {
			anchor := "middle"
			if i == n-1 {
				anchor = "end"
			} else if x-chartLeft < 20 {
				anchor = "start"
			}
			lx := x + slot/2
			if anchor == "end" {
				lx = x + slot
			}
			ch.XTicks = append(ch.XTicks, XTick{X: coord(lx), Label: p.Label, Anchor: anchor})
		}
	}
	return ch
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 2, so the middle gridline is
// a whole number).
func niceCeil(n int64) int64 {
	if n <= 2 {
		return 2
	}
	p := int64(1)
	for p*10 <= n {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

func coord(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func chartConst(n int) string { return strconv.Itoa(n) }

package web

import (
	"fmt"
	"strings"

	"github.com/firstlinehq/firstline/bot/stats"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 640, 180
	padL, padB     = 40, 24
	padT, padR     = 10, 10
)

// chart is an SVG chart computed in Go; the template only draws it.
type chart struct {
	W, H int
	// The x axis, at the bottom of the plot.
	AxisX1, AxisX2, AxisY float64
	Bars                  []bar
	Line                  string // polyline points, "" for none
	Dots                  []dot
	XTicks                []tick
	YTicks                []tick
	Empty                 bool
}

type bar struct {
	X, Y, W, H float64
	Title      string
}

type dot struct {
	X, Y  float64
	Title string
}

type tick struct {
	X, Y float64
	Text string
}

// automationChart is a line of the daily automation rate (0–100%).
func automationChart(days []stats.Day) chart {
	c := newChart()
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	var pts []string
	for i, d := range days {
		x := padL + step(i, len(days), plotW)
		if d.Conversations == 0 {
			continue
		}
		c.Empty = false
		rate := float64(d.Automated) / float64(d.Conversations)
		y := padT + plotH*(1-rate)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		c.Dots = append(c.Dots, dot{X: x, Y: y, Title: fmt.Sprintf("%s: %.0f%% of %d", d.Date.Format("Jan 2"), rate*100, d.Conversations)})
	}
	c.Line = strings.Join(pts, " ")
	for _, v := range []float64{0, 0.5, 1} {
		c.YTicks = append(c.YTicks, tick{X: padL - 6, Y: padT + plotH*(1-v) + 4, Text: fmt.Sprintf("%.0f%%", v*100)})
	}
	c.XTicks = xTicks(days, plotW)
	return c
}

// handoffChart is a bar per day of the handoffs opened.
func handoffChart(days []stats.Day) chart {
	c := newChart()
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	most := 0
	for _, d := range days {
		most = max(most, d.Handoffs)
	}
	if most > 0 {
		c.Empty = false
	}
	slot := plotW / float64(max(len(days), 1))
	for i, d := range days {
		if d.Handoffs == 0 {
			continue
		}
		h := plotH * float64(d.Handoffs) / float64(most)
		c.Bars = append(c.Bars, bar{
			X: padL + float64(i)*slot + slot*0.15, Y: padT + plotH - h, W: slot * 0.7, H: h,
			Title: fmt.Sprintf("%s: %d handoffs", d.Date.Format("Jan 2"), d.Handoffs),
		})
	}
	c.YTicks = []tick{{X: padL - 6, Y: padT + plotH + 4, Text: "0"}, {X: padL - 6, Y: padT + 4, Text: fmt.Sprint(most)}}
	c.XTicks = xTicks(days, plotW)
	return c
}

// step spreads n points over width, centred in their slots.
func step(i, n int, width float64) float64 {
	slot := width / float64(max(n, 1))
	return float64(i)*slot + slot/2
}

// xTicks labels about six days along the axis.
func xTicks(days []stats.Day, plotW float64) []tick {
	var out []tick
	every := max(1, len(days)/6)
	for i := 0; i < len(days); i += every {
		out = append(out, tick{X: padL + step(i, len(days), plotW), Y: chartH - 6, Text: days[i].Date.Format("Jan 2")})
	}
	return out
}

func newChart() chart {
	return chart{W: chartW, H: chartH, Empty: true, AxisX1: padL, AxisX2: chartW - padR, AxisY: chartH - padB}
}

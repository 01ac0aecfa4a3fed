package main

import (
	"fmt"
	"math"
	"strconv"
)

// The report's inline SVG charts: bars and histograms.

// bar is one row of a horizontal bar chart.
type bar struct {
	Label        string
	Value        float64
	Width, Y     float64
	Value2       float64 // a second series (clips beside videos)
	Width2       float64
	Text, Text2  string
	TestID       string
	HasSecondary bool
	TextX        float64 // where the label after the bars goes
}

// barChart scales values to widths of at most maxW pixels.
func barChart(labels []string, a, b []float64, maxW float64, id string) []bar {
	var top, top2 float64
	for i := range labels {
		top = math.Max(top, a[i])
		if b != nil {
			top2 = math.Max(top2, b[i])
		}
	}
	var out []bar
	for i, l := range labels {
		x := bar{Label: l, Value: a[i], Y: float64(i) * 22, Text: strconv.FormatFloat(a[i], 'f', -1, 64), TestID: id}
		if top > 0 {
			x.Width = a[i] / top * maxW
		}
		if b != nil {
			x.HasSecondary, x.Value2, x.Text2 = true, b[i], strconv.FormatFloat(b[i], 'f', -1, 64)
			if top2 > 0 {
				x.Width2 = b[i] / top2 * maxW
			}
		}
		x.TextX = math.Max(x.Width, x.Width2)
		out = append(out, x)
	}
	return out
}

// histogram bins values into n equal bins between their min and max.
func histogram(vals []float64, n int, unit string) ([]string, []float64) {
	if len(vals) == 0 {
		return nil, nil
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		return []string{strconv.FormatFloat(lo, 'g', 4, 64) + unit}, []float64{float64(len(vals))}
	}
	counts := make([]float64, n)
	for _, v := range vals {
		k := int((v - lo) / (hi - lo) * float64(n))
		counts[min(k, n-1)]++
	}
	labels := make([]string, n)
	for k := range labels {
		a, b := lo+(hi-lo)*float64(k)/float64(n), lo+(hi-lo)*float64(k+1)/float64(n)
		labels[k] = fmt.Sprintf("%.3g–%.3g%s", a, b, unit)
	}
	return labels, counts
}

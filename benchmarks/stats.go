package main

import (
	"fmt"
	"math"
	"slices"
)

// median is the middle of xs (the mean of the two middle values for an even
// count). It does not modify xs. It panics on an empty slice: a median of
// nothing is a bug in the caller, not a number.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		panic("median: empty slice")
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile is the nearest-rank p-th percentile of xs, 0 < p <= 100: the
// smallest value such that at least p% of xs are <= it. So percentile(xs, 100)
// is the maximum and percentile(xs, 50) of an even count is the lower middle.
// It does not modify xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		panic("percentile: empty slice")
	}
	if !(p > 0 && p <= 100) {
		panic(fmt.Sprintf("percentile: p = %v; need 0 < p <= 100", p))
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[rank-1]
}

// medianSample combines repetitions metric by metric: each metric's median
// over the repetitions that measured it.
func medianSample(reps []Sample) Sample {
	byName := map[string][]float64{}
	for _, r := range reps {
		for k, v := range r {
			byName[k] = append(byName[k], v)
		}
	}
	out := Sample{}
	for k, vs := range byName {
		out[k] = median(vs)
	}
	return out
}

package demo

import (
	"math"
	"math/rand/v2"
	"time"
)

// Random streams. Every customer gets its own PCG stream derived from the
// seed and the customer's index, so what a customer looks like depends on
// nothing but (seed, index, AsOf, N) — not on batching, worker count or the
// order in which batches are generated.

// Stream purposes keep the set-up stream apart from the customer streams.
const (
	streamSetup    uint64 = 0x5e7a9b1d3c2f4e60
	streamCustomer uint64 = 0x0c05_7e11_ab1e_0001
	streamDedup    uint64 = 0xd0d0_2a11_5eed_0002
)

// splitmix64 scrambles a counter into a well-mixed 64-bit value; used to
// derive independent PCG seeds from (seed, index).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newStream returns the random stream of one (seed, purpose, index).
func newStream(seed, purpose, index uint64) *rand.Rand {
	hi := splitmix64(seed ^ purpose)
	lo := splitmix64(hi ^ splitmix64(index+purpose))
	return rand.New(rand.NewPCG(hi, lo))
}

// rng wraps a stream with the distributions the generator needs.
type rng struct{ *rand.Rand }

// chance reports true with probability p.
func (r rng) chance(p float64) bool { return r.Float64() < p }

// between returns a uniform integer in [lo, hi].
func (r rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// uniform returns a uniform float in [lo, hi).
func (r rng) uniform(lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

// dur returns a uniform duration in [lo, hi).
func (r rng) dur(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// logNormalDur returns a duration whose logarithm is normal around the
// median with the given spread (in log units); used for human reaction
// times, which have long tails (most confirm a DOI mail within minutes,
// some after a day).
func (r rng) logNormalDur(median time.Duration, sigma float64) time.Duration {
	f := math.Min(math.Exp(sigma*r.NormFloat64()), 50) // cap the tail: no DOI is clicked years later
	return time.Duration(float64(median) * f)
}

// gamma draws from Gamma(shape, scale) (Marsaglia & Tsang 2000; shapes
// below 1 use the boost U^(1/shape)).
func (r rng) gamma(shape, scale float64) float64 {
	if shape < 1 {
		u := r.Float64()
		for u == 0 {
			u = r.Float64()
		}
		return r.gamma(shape+1, scale) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v * scale
		}
	}
}

// beta draws from Beta(a, b).
func (r rng) beta(a, b float64) float64 {
	x := r.gamma(a, 1)
	y := r.gamma(b, 1)
	if x+y == 0 {
		return 0.5
	}
	return x / (x + y)
}

// weighted picks an index with probability proportional to its weight,
// given the running totals of the weights (cum[i] = w[0]+…+w[i]).
func (r rng) weighted(cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// cumulative turns weights into running totals for weighted.
func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}

// pick returns a uniformly chosen element.
func pick[T any](r rng, xs []T) T { return xs[r.IntN(len(xs))] }

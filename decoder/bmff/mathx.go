package bmff

import "math/bits"

// rescale is av_rescale (round to nearest, halves away from zero) for
// a, b >= 0, c > 0: floor((a*b + c/2) / c). ok is false where FFmpeg's
// result would not be that (a negative operand, an overflow).
func rescale(a, b, c int64) (int64, bool) {
	if a < 0 || b < 0 || c <= 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	lo, carry := bits.Add64(lo, uint64(c/2), 0)
	hi += carry
	if hi >= uint64(c) {
		return 0, false
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q >= 1<<62 {
		return 0, false
	}
	return int64(q), true
}

// reduce is av_reduce: num/den in lowest terms, or, when either exceeds
// max, the best approximation whose terms do not (continued fractions,
// with the last semiconvergent where it is closer). num, den >= 0.
func reduce(num, den, max int64) (int64, int64) {
	g := gcd(num, den)
	if g != 0 {
		num /= g
		den /= g
	}
	// Convergents h/k of num/den: (h0,k0) the one before (h1,k1).
	h0, k0, h1, k1 := int64(0), int64(1), int64(1), int64(0)
	if num <= max && den <= max {
		return num, den
	}
	for den != 0 {
		x := num / den
		rest := num - den*x
		h2, k2 := x*h1+h0, x*k1+k0
		if h2 > max || k2 > max {
			// The largest semiconvergent within bounds, if it is a
			// better approximation than the last convergent.
			if h1 != 0 {
				x = (max - h0) / h1
			}
			if k1 != 0 {
				x = min(x, (max-k0)/k1)
			}
			if den*(2*x*k1+k0) > num*k1 {
				h1, k1 = x*h1+h0, x*k1+k0
			}
			break
		}
		h0, k0, h1, k1 = h1, k1, h2, k2
		num, den = den, rest
	}
	return h1, k1
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Reduce is reduce for tests in other packages.
func Reduce(num, den, max int64) (int64, int64) { return reduce(num, den, max) }

// Rescale is rescale for tests in other packages.
func Rescale(a, b, c int64) (int64, bool) { return rescale(a, b, c) }

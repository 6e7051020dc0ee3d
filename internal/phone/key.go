package phone

import "strconv"

// Key packs an E.164 number ("+" and at most 15 digits, ITU-T E.164 §6.1)
// into an integer: a 1, then the digits, so "+491701234567" is
// 1491701234567. A map keyed by it holds no string per number (the
// collector's index and private store keep one entry per person for their
// whole life). ok is false for anything else.
func Key(e164 string) (k uint64, ok bool) {
	if len(e164) < 2 || len(e164) > 16 || e164[0] != '+' {
		return 0, false
	}
	k = 1
	for i := 1; i < len(e164); i++ {
		c := e164[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		k = k*10 + uint64(c-'0')
	}
	return k, true
}

// FromKey is the inverse of [Key]: the number k stands for, or "" for an
// integer no number has (Key's results start with a 1 and have 2 to 16
// digits).
func FromKey(k uint64) string {
	s := strconv.FormatUint(k, 10)
	if len(s) < 2 || len(s) > 16 || s[0] != '1' {
		return ""
	}
	return "+" + s[1:]
}

// IsKey reports whether k is a [Key] of some number (what [FromKey] turns
// into one), without making the string: a 1 followed by 1 to 15 digits.
func IsKey(k uint64) bool {
	for p := uint64(10); p <= 1e15; p *= 10 {
		if k >= p && k < 2*p {
			return true
		}
	}
	return false
}

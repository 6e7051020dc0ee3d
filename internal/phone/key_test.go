package phone

import "testing"

func TestKey(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"+491701234567", 1491701234567, true},
		{"+4917012345670", 14917012345670, true}, // one more digit: another key
		{"+999999999999999", 1999999999999999, true},
		{"+1", 11, true},
		{"+", 0, false},
		{"", 0, false},
		{"+9999999999999999", 0, false}, // 16 digits: not E.164
		{"0170 1234567", 0, false},
		{"+49 170", 0, false},
	} {
		got, ok := Key(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Key(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzKey: a key stands for exactly one number.
func FuzzKey(f *testing.F) {
	for _, s := range []string{"+491701234567", "+1", "+", "+0", "+00", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, number string) {
		k, ok := Key(number)
		if !ok {
			return
		}
		if back := FromKey(k); back != number {
			t.Fatalf("Key(%q) = %d, which FromKey reads as %q", number, k, back)
		}
	})
}

func TestFromKeyRefuses(t *testing.T) {
	// No E.164 number has these keys: too few or too many digits, or no
	// leading 1.
	for _, k := range []uint64{0, 1, 2, 25, 10000000000000000} {
		if s := FromKey(k); s != "" {
			t.Errorf("FromKey(%d) = %q, want \"\"", k, s)
		}
	}
}

// TestIsKey: IsKey is FromKey's "not empty", at every edge of its ranges
// and around them.
func TestIsKey(t *testing.T) {
	var ks []uint64
	for p := uint64(1); p <= 1e17; p *= 10 {
		ks = append(ks, p-1, p, p+1, 2*p-1, 2*p, 2*p+1)
	}
	ks = append(ks, 1491701234567, ^uint64(0))
	for _, k := range ks {
		if got, want := IsKey(k), FromKey(k) != ""; got != want {
			t.Errorf("IsKey(%d) = %v, FromKey says %v", k, got, want)
		}
	}
}

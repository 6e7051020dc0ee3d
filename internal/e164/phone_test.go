package e164

import "testing"

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"0170 1234567", "+491701234567"},
		{"+49 (0)170 123 45 67", "+491701234567"},
		{"0049 170 1234567", "+491701234567"},
		{"+48 512 345 678", "+48512345678"},
		{"030 1234567", "+49301234567"},
		{"12", ""},
		{"0170 12345678901234", ""},
		{"hello", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := Normalize(tt.in, "DE")
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

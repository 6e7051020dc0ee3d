package procs

import (
	"runtime"
	"testing"
)

func TestScale(t *testing.T) {
	t.Setenv("GOMAXPROCS", "") // Scale reads "" as unset, like the runtime
	defer runtime.SetDefaultGOMAXPROCS()
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	for i := 0; i < 2; i++ { // again: from the default, not doubled twice
		if got := Scale(2); got != 2*def || runtime.GOMAXPROCS(0) != 2*def {
			t.Fatalf("call %d: Scale(2) = %d, GOMAXPROCS %d; want %d", i+1, got, runtime.GOMAXPROCS(0), 2*def)
		}
	}
	if got := Scale(0); got != 2*def {
		t.Errorf("Scale(0) = %d, want the value in force %d", got, 2*def)
	}
}

func TestScaleKeepsOperatorsChoice(t *testing.T) {
	t.Setenv("GOMAXPROCS", "3")
	defer runtime.SetDefaultGOMAXPROCS()
	runtime.GOMAXPROCS(3)
	if got := Scale(2); got != 3 || runtime.GOMAXPROCS(0) != 3 {
		t.Errorf("with GOMAXPROCS=3 set: Scale(2) = %d, GOMAXPROCS %d; want 3", got, runtime.GOMAXPROCS(0))
	}
}

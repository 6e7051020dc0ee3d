// Package procs sets how many goroutines may run Go code at once
// (GOMAXPROCS) for a process that waits on fsync(2) while it serves.
//
// A goroutine in a system call keeps its P (the runtime's right to run Go
// code) until the runtime's monitor has seen it there twice, tens of
// microseconds to milliseconds later; an fdatasync blocks for a disk flush
// (0.2 to 0.7 ms here). The collector has up to four in flight at once
// (the private store's keys and openings, the log, the transparency log),
// so with one P per CPU both CPUs of a small VPS sit idle while handlers
// wait for a P. Twice as many Ps as CPUs leaves Ps for the handlers while
// the syncs wait: bench/README.md, "More Ps than CPUs".
package procs

import (
	"os"
	"runtime"
)

// Scale sets GOMAXPROCS to factor times the runtime's default (the CPUs
// this process may use, CPU affinity and cgroup quota included) and
// returns the value in force. It changes nothing if the GOMAXPROCS
// environment variable is set (the operator's choice stands) or factor is
// below 1. Calling it again gives the same result: it starts from the
// default each time. Once set, the runtime no longer follows later
// changes of the cgroup quota by itself.
func Scale(factor int) int {
	if os.Getenv("GOMAXPROCS") != "" || factor < 1 {
		return runtime.GOMAXPROCS(0)
	}
	runtime.SetDefaultGOMAXPROCS()
	n := runtime.GOMAXPROCS(0) * factor
	runtime.GOMAXPROCS(n)
	return n
}

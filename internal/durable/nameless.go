package durable

import "os"

// Nameless creates a file in dir ("": os.TempDir()) named by pattern as
// [os.CreateTemp] does, and removes its name at once: the opposite of this
// package's other files, for derived data that must not outlive the
// process. It is the caller's alone, never seen by a backup or another
// process, and its blocks are freed when it is closed or the process ends
// (a crash included).
func Nameless(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

//go:build !linux

package generator

// syncDir puts everything written below dir on disk: an fsync per file and
// folder.
func syncDir(dir string) error { return syncTree(dir) }

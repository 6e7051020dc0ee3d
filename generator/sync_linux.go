package generator

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncDir puts everything written below dir on disk. On Linux one
// syncfs(2) of dir's file system replaces an fsync per file: a thousand
// fsyncs cost more than the whole render.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return syncTree(dir)
	}
	return nil
}

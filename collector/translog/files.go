package translog

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/chatconsent/chatconsent/internal/durable"
)

// createNew durably creates path with data; it fails with os.ErrExist if
// path exists.
func createNew(path string, data []byte, mode os.FileMode) error {
	return durable.CreateFile(path, data, mode)
}

// writeFileAtomic durably replaces path with data, creating its folder:
// temp → write → fsync → rename → fsync dir (internal/durable). Readers
// see the old or the new file, never half.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return durable.WriteFile(path, data, mode)
}

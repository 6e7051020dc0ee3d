package collector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/chatconsent/chatconsent/internal/config"
)

// ErrNoSigningKey is wrapped by the [*DataDirError] of [Open] when the data
// folder has no signing key and this is not a first setup.
var ErrNoSigningKey = errors.New("no signing key")

// DataDirError says why [Open] would not create a signing key in Dir: a
// new key beside a mistyped --data path would start an empty log that no
// receipt matches. Configured is collector.data_dir.
type DataDirError struct {
	Dir, Configured string
	Reason          string
	hint            string
}

func (e *DataDirError) Error() string {
	return fmt.Sprintf("data folder %s: %s: %s", e.Dir, ErrNoSigningKey, e.Reason)
}
func (e *DataDirError) Unwrap() error { return ErrNoSigningKey }

// Hint says what to do instead (the CLI prints it).
func (e *DataDirError) Hint() string { return e.hint }

// setupFiles may be in a data folder before its first start: keys made by
// keygen and the folders the collector makes.
var setupFiles = []string{config.InviteKeyFile, config.InvitePublicKeyFile, config.CheckpointKeyFile, config.CheckpointVerifierKeyFile, config.ReceiptsDir, config.TextsDir, config.OutboxDir, config.OwnersFile, config.OwnersFile + ".lock"}

// checkDataDir allows a signing key to be created in dir only on first
// setup: dir is absent or holds nothing of a collector but the keys of
// keygen (and an empty log), and the configured data folder, if it is
// another one, holds no collector either.
func checkDataDir(dir, configured string) error {
	if _, err := os.Stat(filepath.Join(dir, config.SigningKeyFile)); err == nil {
		return nil
	}
	e := &DataDirError{Dir: dir, Configured: configured}
	if holdsCollector(dir) {
		e.Reason = "it holds a log (or public key) but not the signing key " + config.SigningKeyFile
		e.hint = "restore " + config.SigningKeyFile + " from your backup into " + dir + "; a new key would not match the log"
		return e
	}
	if configured != "" && !sameDir(dir, configured) {
		if _, err := os.Stat(filepath.Join(configured, config.SigningKeyFile)); err == nil || holdsCollector(configured) {
			e.Reason = "it is not the configured collector.data_dir, which holds the collector's key and log"
			e.hint = fmt.Sprintf("did you mean --data %s (or no --data)? To start a second collector in %s, create its key first: chatconsent keygen --data %s", configured, dir, dir)
			return e
		}
	}
	des, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("data folder: %w", err)
	}
	for _, de := range des {
		if !slices.Contains(setupFiles, de.Name()) && de.Name() != config.LogFile {
			e.Reason = fmt.Sprintf("it is not empty (%s) and holds no collector's data", de.Name())
			e.hint = fmt.Sprintf("check --data (collector.data_dir is %s); to start a collector in %s anyway, create its key first: chatconsent keygen --data %s", configured, dir, dir)
			return e
		}
	}
	return nil
}

// holdsCollector reports whether dir holds a non-empty log, a torn tail or
// a public signing key: a collector ran there.
func holdsCollector(dir string) bool {
	if st, err := os.Stat(filepath.Join(dir, config.LogFile)); err == nil && st.Size() > 0 {
		return true
	}
	if _, err := os.Stat(filepath.Join(dir, config.SigningPublicKeyFile)); err == nil {
		return true
	}
	torn, _ := filepath.Glob(filepath.Join(dir, config.LogFile+".torn*"))
	return len(torn) > 0
}

func sameDir(a, b string) bool {
	a, errA := filepath.Abs(a)
	b, errB := filepath.Abs(b)
	return errA == nil && errB == nil && a == b
}

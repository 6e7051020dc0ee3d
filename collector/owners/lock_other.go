//go:build !unix

package owners

import "sync"

var lockMu sync.Mutex

// lockFile serialises updates within this process only: the collector
// runs on Unix servers; elsewhere (a laptop's owner commands) one
// process at a time changes the owners.
func lockFile(string) (func(), error) {
	lockMu.Lock()
	return lockMu.Unlock, nil
}

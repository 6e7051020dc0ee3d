package collector

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// ReloadVersions reads the archive's manifest again and from then on
// accepts exactly the versions it lists. "chatconsent serve" calls it after
// every rebuild that published a version; a long-running collector gets new
// versions this way without a restart. On error the versions accepted so
// far stay in force.
func (s *Server) ReloadVersions() error {
	m, err := textarchive.ReadManifest(s.o.ArchiveDir)
	if err != nil {
		return fmt.Errorf("collector: reload text versions: %w", err)
	}
	s.vmu.Lock()
	s.versions = m.Versions
	s.vmu.Unlock()
	return nil
}

// version returns the manifest entry of text version v. A well-formed
// version that is not known yet but has its archived file (a "chatconsent
// build" since start) makes the collector read the manifest again, so the
// owner need not restart it after publishing a new text.
func (s *Server) version(v string) (textarchive.Version, bool) {
	s.vmu.RLock()
	info, ok := s.versions[v]
	s.vmu.RUnlock()
	if ok || !textarchive.ValidVersion(v) {
		return info, ok
	}
	if _, err := os.Stat(filepath.Join(s.o.ArchiveDir, v+".html")); err != nil {
		return info, false
	}
	if err := s.ReloadVersions(); err != nil {
		s.o.Logger.Error("reload text versions", "err", err)
		return info, false
	}
	s.vmu.RLock()
	defer s.vmu.RUnlock()
	info, ok = s.versions[v]
	return info, ok
}

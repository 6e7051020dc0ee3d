package collector

import (
	"fmt"

	"github.com/chatconsent/chatconsent/generator/archive"
)

// ReloadVersions reads the archive's manifest again and from then on
// accepts exactly the versions it lists. "chatconsent serve" calls it after
// every rebuild that published a version; a long-running collector gets new
// versions this way without a restart. On error the versions accepted so
// far stay in force.
func (s *Server) ReloadVersions() error {
	m, err := archive.ReadManifest(s.o.ArchiveDir)
	if err != nil {
		return fmt.Errorf("collector: reload text versions: %w", err)
	}
	s.vmu.Lock()
	s.versions = m.Versions
	s.vmu.Unlock()
	return nil
}

// version returns the manifest entry of text version v.
func (s *Server) version(v string) (archive.Version, bool) {
	s.vmu.RLock()
	defer s.vmu.RUnlock()
	info, ok := s.versions[v]
	return info, ok
}

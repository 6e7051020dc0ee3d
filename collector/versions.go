package collector

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// ReloadVersions reads the archive's manifest again and from then on
// accepts exactly the versions it lists. "chatconsent serve" calls it after
// every rebuild that published a version; a long-running collector gets new
// versions this way without a restart. On error the versions accepted so
// far stay in force.
func (s *Server) ReloadVersions() error {
	stamp := manifestStamp(s.o.Paths.Archive)
	m, err := textarchive.ReadManifest(s.o.Paths.Archive)
	if err != nil {
		return fmt.Errorf("collector: reload text versions: %w", err)
	}
	s.vmu.Lock()
	s.versions = m.Versions
	s.manifestSeen = stamp
	s.vmu.Unlock()
	return nil
}

// manifestStamp identifies the manifest file's current contents cheaply
// (size and modification time; a build replaces the file by rename).
func manifestStamp(archiveDir string) string {
	st, err := os.Stat(filepath.Join(archiveDir, textarchive.ManifestFile))
	if err != nil {
		return ""
	}
	ino := uint64(0)
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	return fmt.Sprintf("%d %d %d", st.Size(), st.ModTime().UnixNano(), ino)
}

// consentPage returns the consent page of the latest text version in lang,
// for a personal invite page. A manifest changed since it was read (a
// "chatconsent build" published a version) is read again first, so a
// renewal invite shows the new text without a restart. Pages are read
// from the archive once per version.
func (s *Server) consentPage(lang string) (*textarchive.ConsentPage, error) {
	s.vmu.RLock()
	seen := s.manifestSeen
	s.vmu.RUnlock()
	if now := manifestStamp(s.o.Paths.Archive); now != seen {
		if err := s.ReloadVersions(); err != nil {
			s.o.Logger.Error("reload text versions", "err", err)
		}
	}
	s.vmu.RLock()
	v := (&textarchive.Manifest{Versions: s.versions}).Latest(lang)
	cp := s.pages[v]
	s.vmu.RUnlock()
	if cp != nil {
		return cp, nil
	}
	if v == "" {
		return nil, fmt.Errorf("collector: the text archive %s has no version in %q; run chatconsent build", s.o.Paths.Archive, lang)
	}
	cp, err := textarchive.ReadConsentPage(s.o.Paths.Archive, v)
	if err != nil {
		return nil, fmt.Errorf("collector: invite pages need the consent page of every language: %w (run chatconsent build)", err)
	}
	s.vmu.Lock()
	s.pages[v] = cp
	s.vmu.Unlock()
	return cp, nil
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
	if _, err := os.Stat(filepath.Join(s.o.Paths.Archive, v+".html")); err != nil {
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

package config

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"strings"

	f_note "github.com/transparency-dev/formats/note"
)

// Log configures the transparency log ([log] in config.toml): the
// witnesses that cosign its checkpoints and the time-stamp authority.
type Log struct {
	// Witnesses cosign each checkpoint by the C2SP tlog-witness protocol
	// ([[log.witnesses]]); WitnessQuorum of them must have cosigned a
	// checkpoint before it is published (default: all of them).
	Witnesses     []Witness
	WitnessQuorum int
	// TimestampURL is an RFC 3161 time-stamp authority asked for a token
	// over each checkpoint; "" means none. TimestampRoots is the absolute
	// path of a PEM file with the authority's root certificates, which
	// verify checks the tokens against (required with TimestampURL).
	TimestampURL   string
	TimestampRoots string
}

// Witness is one [[log.witnesses]] entry: the witness's URL prefix (it
// answers POST URL/add-checkpoint) and its verifier key in signed-note
// format (name+hash+base64; Ed25519 or cosignature/v1).
type Witness struct {
	URL string
	Key string
}

// logFile mirrors [log].
type logFile struct {
	Witnesses []struct {
		URL string `toml:"url"`
		Key string `toml:"key"`
	} `toml:"witnesses"`
	WitnessQuorum  *int   `toml:"witness_quorum"`
	TimestampURL   string `toml:"timestamp_url"`
	TimestampRoots string `toml:"timestamp_roots"`
}

func parseLog(bad func(key, format string, args ...any), f logFile, dir string) Log {
	var l Log
	names := map[string]bool{}
	for i, w := range f.Witnesses {
		key := fmt.Sprintf("log.witnesses[%d]", i)
		if u, err := url.Parse(w.URL); w.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key+".url", "%q is not an http(s) URL (the witness's prefix, e.g. \"https://witness.example.org/\")", w.URL)
		}
		v, err := f_note.NewVerifierForCosignatureV1(strings.TrimSpace(w.Key))
		switch {
		case w.Key == "":
			bad(key+".key", "missing (required): the witness's verifier key, name+hash+base64")
		case err != nil:
			bad(key+".key", "not a signed-note verifier key (name+hash+base64): %v", err)
		case names[v.Name()]:
			bad(key+".key", "witness %q is listed twice", v.Name())
		default:
			names[v.Name()] = true
		}
		l.Witnesses = append(l.Witnesses, Witness{URL: w.URL, Key: strings.TrimSpace(w.Key)})
	}
	l.WitnessQuorum = len(l.Witnesses)
	if q := f.WitnessQuorum; q != nil {
		l.WitnessQuorum = *q
		if *q < 0 || *q > len(l.Witnesses) {
			bad("log.witness_quorum", "%d: must be between 0 and the number of [[log.witnesses]] (%d)", *q, len(l.Witnesses))
		}
	}
	if s := f.TimestampURL; s != "" {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("log.timestamp_url", "%q is not an http(s) URL of an RFC 3161 time-stamp authority", s)
		}
		l.TimestampURL = s
		if f.TimestampRoots == "" {
			bad("log.timestamp_roots", "missing (required with log.timestamp_url): a PEM file with the authority's root certificates")
		}
	}
	if s := f.TimestampRoots; s != "" {
		l.TimestampRoots = resolve(dir, s)
		if err := checkRoots(l.TimestampRoots); err != nil {
			bad("log.timestamp_roots", "%v", err)
		}
	}
	return l
}

// checkRoots reads a PEM file of certificates.
func checkRoots(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return fmt.Errorf("%s: certificate %d: %v", path, n+1, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s: no PEM CERTIFICATE in it", path)
	}
	return nil
}

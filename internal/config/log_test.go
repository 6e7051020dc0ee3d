package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func witnessKey(t *testing.T, name string) string {
	t.Helper()
	_, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

func rootsFile(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test TSA root"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseLog(t *testing.T) {
	t.Parallel()
	w1, w2 := witnessKey(t, "w1.example"), witnessKey(t, "w2.example")
	roots := rootsFile(t)
	text := good + "\n[log]\nwitness_quorum = 1\ntimestamp_url = \"https://tsa.example.org/\"\ntimestamp_roots = \"" + roots + "\"\n" +
		"[[log.witnesses]]\nurl = \"https://w1.example/\"\nkey = \"" + w1 + "\"\n" +
		"[[log.witnesses]]\nurl = \"http://127.0.0.1:7380\"\nkey = \"" + w2 + "\"\n"
	c, err := Parse("c.toml", "/site", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := Log{Witnesses: []Witness{{"https://w1.example/", w1}, {"http://127.0.0.1:7380", w2}}, WitnessQuorum: 1,
		TimestampURL: "https://tsa.example.org/", TimestampRoots: roots}
	if c.Log.WitnessQuorum != want.WitnessQuorum || c.Log.TimestampURL != want.TimestampURL || c.Log.TimestampRoots != want.TimestampRoots ||
		len(c.Log.Witnesses) != 2 || c.Log.Witnesses[0] != want.Witnesses[0] || c.Log.Witnesses[1] != want.Witnesses[1] {
		t.Errorf("log = %+v, want %+v", c.Log, want)
	}
	// Default quorum: all witnesses; no [log]: none.
	c, err = Parse("c.toml", "/site", []byte(good+"\n[[log.witnesses]]\nurl = \"https://w1.example/\"\nkey = \""+w1+"\"\n"))
	if err != nil || c.Log.WitnessQuorum != 1 {
		t.Errorf("default quorum: %+v, %v", c.Log, err)
	}
	c, err = Parse("c.toml", "/site", []byte(good))
	if err != nil || len(c.Log.Witnesses) != 0 || c.Log.WitnessQuorum != 0 || c.Log.TimestampURL != "" {
		t.Errorf("no [log]: %+v, %v", c.Log, err)
	}
}

func TestParseLogErrors(t *testing.T) {
	t.Parallel()
	w1 := witnessKey(t, "w1.example")
	wit := func(url, key string) string {
		return "\n[[log.witnesses]]\nurl = \"" + url + "\"\nkey = \"" + key + "\"\n"
	}
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notPEM, []byte("no certificates"), 0o644)
	tests := []struct{ name, text, want string }{
		{"bad url", wit("ftp://w", w1), `c.toml:17: invalid configuration: log.witnesses[0].url: "ftp://w" is not an http(s) URL`},
		{"no url", "\n[[log.witnesses]]\nkey = \"" + w1 + "\"\n", `log.witnesses[0].url: "" is not an http(s) URL`},
		{"bad key", wit("https://w/", "w1+abc+def"), `c.toml:18: invalid configuration: log.witnesses[0].key: not a signed-note verifier key`},
		{"no key", "\n[[log.witnesses]]\nurl = \"https://w/\"\n", `log.witnesses[0].key: missing (required)`},
		{"twice", wit("https://w/", w1) + wit("https://v/", w1), `c.toml:22: invalid configuration: log.witnesses[1].key: witness "w1.example" is listed twice`},
		{"quorum too big", "\n[log]\nwitness_quorum = 2\n" + wit("https://w/", w1), `c.toml:17: invalid configuration: log.witness_quorum: 2: must be between 0 and the number of [[log.witnesses]] (1)`},
		{"quorum negative", "\n[log]\nwitness_quorum = -1\n", `log.witness_quorum: -1`},
		{"quorum type", "\n[log]\nwitness_quorum = \"all\"\n", `c.toml:17: invalid configuration: log.witness_quorum: want a whole number`},
		{"tsa url", "\n[log]\ntimestamp_url = \"tsa.example.org\"\ntimestamp_roots = \"" + notPEM + "\"\n", `log.timestamp_url: "tsa.example.org" is not an http(s) URL`},
		{"tsa without roots", "\n[log]\ntimestamp_url = \"https://tsa.example.org/\"\n", `log.timestamp_roots: missing (required with log.timestamp_url)`},
		{"roots not PEM", "\n[log]\ntimestamp_roots = \"" + notPEM + "\"\n", `c.toml:17: invalid configuration: log.timestamp_roots: ` + notPEM + `: no PEM CERTIFICATE`},
		{"roots missing", "\n[log]\ntimestamp_roots = \"nope.pem\"\n", `log.timestamp_roots: open /site/nope.pem`},
		{"unknown key", "\n[log]\nwitness = \"x\"\n", `c.toml:17: invalid configuration: unknown key log.witness`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", "/site", []byte(good+tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("err does not wrap ErrInvalid: %v", err)
			}
		})
	}
}

func TestParseLogStorage(t *testing.T) {
	t.Parallel()
	c, err := Parse("c.toml", "/site", []byte(good))
	if err != nil || c.Log.Storage != StoragePOSIX || c.Log.AWS != nil {
		t.Fatalf("default storage: %q %+v, %v", c.Log.Storage, c.Log.AWS, err)
	}
	text := good + "\n[log]\nstorage = \"aws\"\n[log.aws]\nbucket = \"consent-logs\"\nprefix = \"site-a/log\"\n" +
		"endpoint = \"http://127.0.0.1:9000\"\nregion = \"eu-central-1\"\nmysql_dsn = \"chatconsent@tcp(db.example.org:3306)/site_a\"\n"
	c, err = Parse("c.toml", "/site", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := LogAWS{Bucket: "consent-logs", Prefix: "site-a/log", Endpoint: "http://127.0.0.1:9000", Region: "eu-central-1",
		MySQLDSN: "chatconsent@tcp(db.example.org:3306)/site_a"}
	if c.Log.Storage != StorageAWS || c.Log.AWS == nil || *c.Log.AWS != want {
		t.Fatalf("log = %q %+v, want aws %+v", c.Log.Storage, c.Log.AWS, want)
	}
	for _, tt := range []struct{ env, want string }{
		{"", "chatconsent@tcp(db.example.org:3306)/site_a"},
		{"s3cr:t@x", "chatconsent:s3cr:t@x@tcp(db.example.org:3306)/site_a"},
	} {
		got, err := c.Log.AWS.DSN(func(k string) string {
			if k == MySQLPasswordEnv {
				return tt.env
			}
			return ""
		})
		if err != nil || got != tt.want {
			t.Errorf("DSN with password %q = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func TestParseLogStorageErrors(t *testing.T) {
	t.Parallel()
	aws := func(kv string) string {
		return "\n[log]\nstorage = \"aws\"\n[log.aws]\n" + kv
	}
	const dsn = "mysql_dsn = \"u@tcp(db:3306)/site_a\"\n"
	tests := []struct{ name, text, want string }{
		{"unknown storage", "\n[log]\nstorage = \"gcp\"\n", `c.toml:17: invalid configuration: log.storage: "gcp": want "posix"`},
		{"aws without table", "\n[log]\nstorage = \"aws\"\n", `c.toml:17: invalid configuration: log.storage: "aws" needs a [log.aws] table`},
		{"table without aws", "\n[log.aws]\nbucket = \"b-1\"\n", `c.toml: invalid configuration: log.aws: [log.aws] is set but log.storage is "posix"`},
		{"no bucket", aws(dsn), `log.aws.bucket: missing (required)`},
		{"bad bucket", aws("bucket = \"Consent_Logs\"\n" + dsn), `c.toml:19: invalid configuration: log.aws.bucket: "Consent_Logs" is not an S3 bucket name`},
		{"bad prefix", aws("bucket = \"b-1\"\nprefix = \"/site-a/\"\n" + dsn), `c.toml:20: invalid configuration: log.aws.prefix: "/site-a/": no leading`},
		{"bad endpoint", aws("bucket = \"b-1\"\nendpoint = \"s3.example.org\"\n" + dsn), `c.toml:20: invalid configuration: log.aws.endpoint: "s3.example.org" is not the base URL`},
		{"no dsn", aws("bucket = \"b-1\"\n"), `log.aws.mysql_dsn: missing (required)`},
		{"bad dsn", aws("bucket = \"b-1\"\nmysql_dsn = \"db:3306\"\n"), `c.toml:20: invalid configuration: log.aws.mysql_dsn: not a MySQL DSN`},
		{"password in dsn", aws("bucket = \"b-1\"\nmysql_dsn = \"u:pw@tcp(db:3306)/site_a\"\n"), `c.toml:20: invalid configuration: log.aws.mysql_dsn: holds a password: leave it out of the file and set CHATCONSENT_LOG_MYSQL_PASSWORD`},
		{"no database", aws("bucket = \"b-1\"\nmysql_dsn = \"u@tcp(db:3306)/\"\n"), `log.aws.mysql_dsn: names no database`},
		{"unknown key", aws("bucket = \"b-1\"\n" + dsn + "password = \"x\"\n"), `c.toml:21: invalid configuration: unknown key log.aws.password`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", "/site", []byte(good+tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("err does not wrap ErrInvalid: %v", err)
			}
		})
	}
}

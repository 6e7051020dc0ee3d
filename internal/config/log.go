package config

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"

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
	// Storage is where the log's tree lives: "posix" (default: the data
	// folder's log/) or "aws" (Tessera's AWS driver, configured by AWS).
	// The JSONL log stays the acknowledged store either way.
	Storage string
	// AWS is [log.aws], set only with Storage "aws".
	AWS *LogAWS
}

// Storage values of [Log.Storage].
const (
	StoragePOSIX = "posix"
	StorageAWS   = "aws"
)

// MySQLPasswordEnv names the environment variable holding the password of
// [LogAWS.MySQLDSN]: the password never sits in config.toml.
const MySQLPasswordEnv = "CHATCONSENT_LOG_MYSQL_PASSWORD"

// LogAWS is [log.aws]: the S3-compatible bucket and the MySQL-compatible
// database of Tessera's AWS driver. S3 credentials come from the AWS SDK's
// usual sources (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws, the
// machine's role), the database password from [MySQLPasswordEnv].
type LogAWS struct {
	// Bucket is the S3 bucket (required); Prefix is put before every
	// object name ("" for none; no leading or trailing "/").
	Bucket, Prefix string
	// Endpoint is an S3-compatible server's base URL ("" is AWS's S3);
	// Region the S3 region ("" takes the SDK's default).
	Endpoint, Region string
	// MySQLDSN is a go-sql-driver/mysql DSN without password, naming the
	// log's own database: "user@tcp(host:3306)/dbname".
	MySQLDSN string
}

// DSN returns MySQLDSN with the password from getenv(MySQLPasswordEnv)
// (usually os.Getenv) filled in, if that is set.
func (a *LogAWS) DSN(getenv func(string) string) (string, error) {
	c, err := mysql.ParseDSN(a.MySQLDSN)
	if err != nil {
		return "", fmt.Errorf("log.aws.mysql_dsn: %w", err)
	}
	if pw := getenv(MySQLPasswordEnv); pw != "" {
		c.Passwd = pw
	}
	return c.FormatDSN(), nil
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
	Storage        string `toml:"storage"`
	AWS            *struct {
		Bucket   string `toml:"bucket"`
		Prefix   string `toml:"prefix"`
		Endpoint string `toml:"endpoint"`
		Region   string `toml:"region"`
		MySQLDSN string `toml:"mysql_dsn"`
	} `toml:"aws"`
}

// bucketName is S3's rule for bucket names (3 to 63 lower-case letters,
// digits, dots and hyphens, starting and ending with a letter or digit).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func parseLogStorage(bad func(key, format string, args ...any), f logFile, l *Log) {
	switch f.Storage {
	case "", StoragePOSIX:
		l.Storage = StoragePOSIX
		if f.AWS != nil {
			bad("log.aws", "[log.aws] is set but log.storage is %q: set log.storage = \"aws\" to use it, or remove [log.aws]", l.Storage)
		}
		return
	case StorageAWS:
		l.Storage = StorageAWS
	default:
		bad("log.storage", "%q: want \"posix\" (the data folder's log/) or \"aws\" (Tessera's AWS driver, with [log.aws])", f.Storage)
		return
	}
	if f.AWS == nil {
		bad("log.storage", "\"aws\" needs a [log.aws] table with bucket and mysql_dsn")
		return
	}
	a := f.AWS
	l.AWS = &LogAWS{Bucket: a.Bucket, Prefix: a.Prefix, Endpoint: a.Endpoint, Region: a.Region, MySQLDSN: a.MySQLDSN}
	switch {
	case a.Bucket == "":
		bad("log.aws.bucket", "missing (required): the S3 bucket's name")
	case !bucketName.MatchString(a.Bucket) || strings.Contains(a.Bucket, ".."):
		bad("log.aws.bucket", "%q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", a.Bucket)
	}
	if strings.HasPrefix(a.Prefix, "/") || strings.HasSuffix(a.Prefix, "/") || strings.Contains(a.Prefix, "//") {
		bad("log.aws.prefix", "%q: no leading, trailing or double \"/\" (e.g. \"site-a/log\")", a.Prefix)
	}
	if s := a.Endpoint; s != "" {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("log.aws.endpoint", "%q is not the base URL of an S3-compatible server (e.g. \"https://s3.example.org\"); leave it out for AWS's S3", s)
		}
	}
	if a.MySQLDSN == "" {
		bad("log.aws.mysql_dsn", "missing (required): the database's DSN, e.g. \"chatconsent@tcp(db.example.org:3306)/site_a\"")
		return
	}
	c, err := mysql.ParseDSN(a.MySQLDSN)
	switch {
	case err != nil:
		bad("log.aws.mysql_dsn", "not a MySQL DSN (user@tcp(host:3306)/dbname): %v", err)
	case c.Passwd != "":
		bad("log.aws.mysql_dsn", "holds a password: leave it out of the file and set %s in the collector's environment", MySQLPasswordEnv)
	case c.DBName == "":
		bad("log.aws.mysql_dsn", "names no database: each log needs its own (\"…/dbname\")")
	}
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
	parseLogStorage(bad, f, &l)
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

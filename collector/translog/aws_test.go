package translog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// The AWS driver's tests start Debian's MariaDB (mariadb-server, in
// test.sh's PACKAGES) as a child on a free loopback port with a temporary
// data folder, once per test binary, and gofakes3 in-process per test.
// Without mariadbd they skip with a message, unless CHATCONSENT_TEST_SH is
// set (test.sh sets it), where they fail.

var mariaDB struct {
	once sync.Once
	dsn  string // "root@tcp(127.0.0.1:PORT)/", no database
	err  error
	cmd  *exec.Cmd
	dir  string
	n    atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if c := mariaDB.cmd; c != nil {
		// mariadbd shuts down cleanly on SIGTERM (not on SIGINT).
		c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			c.Process.Kill()
			<-done
		}
	}
	if mariaDB.dir != "" {
		os.RemoveAll(mariaDB.dir)
	}
	os.Exit(code)
}

// startMariaDB starts mariadbd once and returns its DSN prefix.
func startMariaDB(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("mariadbd")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/mariadbd"); e == nil {
			bin, err = "/usr/sbin/mariadbd", nil
		}
	}
	if err != nil {
		if os.Getenv("CHATCONSENT_TEST_SH") != "" {
			t.Fatalf("mariadbd not found (test.sh installs mariadb-server): %v", err)
		}
		t.Skip("skipping the AWS driver's test: no mariadbd (apt-get install mariadb-server, or run ./test.sh)")
	}
	mariaDB.once.Do(func() { mariaDB.dsn, mariaDB.err = runMariaDB(bin) })
	if mariaDB.err != nil {
		t.Fatal(mariaDB.err)
	}
	return mariaDB.dsn
}

func runMariaDB(bin string) (string, error) {
	dir, err := os.MkdirTemp("", "chatconsent-mariadb-")
	if err != nil {
		return "", err
	}
	mariaDB.dir = dir
	data := filepath.Join(dir, "data")
	install := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+data,
		"--auth-root-authentication-method=normal", "--skip-test-db", "--user="+currentUser())
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, "mariadbd.log"))
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "--no-defaults", "--datadir="+data, "--socket="+filepath.Join(dir, "sock"),
		"--pid-file="+filepath.Join(dir, "pid"), "--skip-networking=0", "--bind-address=127.0.0.1",
		"--port="+strconv.Itoa(port), "--skip-grant-tables", "--skip-name-resolve", "--user="+currentUser(),
		"--innodb-flush-log-at-trx-commit=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start mariadbd: %v", err)
	}
	mariaDB.cmd = cmd
	dsn := fmt.Sprintf("root@tcp(127.0.0.1:%d)/", port)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	// Readiness, not timing: mariadbd takes a moment to open its port.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if err = db.Ping(); err == nil {
			return dsn, nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			return "", fmt.Errorf("mariadbd on port %d does not answer: %v\n%s", port, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if os.Getuid() == 0 {
		return "root"
	}
	return strconv.Itoa(os.Getuid())
}

// awsTest is one log on the AWS driver: a fresh database in the shared
// MariaDB and a fresh bucket in an in-process gofakes3.
type awsTest struct {
	opts *AWSOptions
	url  string // the bucket's public prefix, path-style
}

func newAWSTest(t testing.TB) awsTest {
	t.Helper()
	base := startMariaDB(t)
	name := fmt.Sprintf("tlog%d", mariaDB.n.Add(1))
	db, err := sql.Open("mysql", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	be := s3mem.New()
	if err := be.CreateBucket("consent"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(be).Server())
	t.Cleanup(ts.Close)
	return awsTest{
		opts: &AWSOptions{Bucket: "consent", Prefix: "site-a/log", Endpoint: ts.URL, Region: "eu-central-1",
			DSN: base + name, AccessKeyID: "test", SecretAccessKey: "test"},
		url: ts.URL + "/consent/site-a/log/",
	}
}

// drivers are the storage drivers the shared log tests run over: each
// returns Options for a fresh log and a Source reading it as a reader of
// the published files would.
var drivers = []struct {
	name string
	open func(t testing.TB) (Options, func() Source)
}{
	{"posix", func(t testing.TB) (Options, func() Source) {
		dir := filepath.Join(t.TempDir(), "log")
		return Options{Dir: dir}, func() Source { return DirSource(dir) }
	}},
	{"aws", func(t testing.TB) (Options, func() Source) {
		a := newAWSTest(t)
		return Options{AWS: a.opts}, func() Source {
			src, err := OpenSource(a.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			return src
		}
	}},
}

// TestDrivers feeds, proves, reopens, catches up and verifies a log on
// each driver; the AWS one's files are read back over HTTP from the
// bucket, as a public reader would.
func TestDrivers(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			k := testKey(t, t.TempDir())
			o, src := d.open(t)
			o.Key, o.BatchMaxAge, o.CheckpointInterval = k, 5*time.Millisecond, 100*time.Millisecond
			l, err := Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			feed(t, l, 0, 300)
			cp300, err := l.AwaitCheckpoint(ctx, 299)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range []uint64{0, 1, 255, 256, 299} {
				p, err := l.Prove(ctx, i)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := VerifyProof(entry(i), p.Marshal(), k.Verifier, nil, 0); err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
				if _, _, err := VerifyProof(entry(i+1), p.Marshal(), k.Verifier, nil, 0); !errors.Is(err, ErrBadProof) {
					t.Fatalf("another entry's proof: %v, want ErrBadProof", err)
				}
			}
			if err := l.Feed(7, entry(7)); !errors.Is(err, ErrGap) {
				t.Fatalf("feeding out of order: %v, want ErrGap", err)
			}
			closeTest(t, l)

			l, err = Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if n := l.Next(); n != 300 {
				t.Fatalf("reopened log's next index %d, want 300", n)
			}
			const total = 1000
			added, err := l.CatchUp(func(from uint64, fn func([]byte) error) error {
				for i := from; i < total; i++ {
					if err := fn(entry(i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil || added != total-300 {
				t.Fatalf("catch up: added %d, %v", added, err)
			}
			if err := l.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			closeTest(t, l)

			rep, err := VerifyLog(ctx, src(), k.Verifier, VerifyOptions{Older: [][]byte{cp300}, Entry: checkEntries(t)})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Entries != total || rep.Checkpoint.Size != total || len(rep.Older) != 1 || rep.Older[0] != 300 {
				t.Fatalf("report %+v", rep)
			}
			// 1,000 entries: 3 full + 1 partial level-0 tiles, 1 partial level 1.
			if rep.Tiles != 5 || rep.Bundles != 4 {
				t.Fatalf("compared %d tiles and %d bundles, want 5 and 4", rep.Tiles, rep.Bundles)
			}

			// The collector serves the log from its storage under /log/.
			ts := httptest.NewServer(http.StripPrefix("/log", SourceHandler(l.Source())))
			defer ts.Close()
			served, err := OpenSource(ts.URL+"/log/", ts.Client())
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := VerifyLog(ctx, served, k.Verifier, VerifyOptions{Entry: checkEntries(t)}); err != nil || rep.Entries != total {
				t.Fatalf("verify the served log: %+v, %v", rep, err)
			}
			for path, want := range map[string]int{"checkpoint": 200, "tile/0/003.p/232": 200, "tile/0/999": 404,
				"tile/entries/005": 404, "checkpoint.tsr": 404, ".state/treeState": 404} {
				resp, err := ts.Client().Get(ts.URL + "/log/" + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("GET /log/%s: %d, want %d", path, resp.StatusCode, want)
				}
			}
		})
	}
}

// failingSource is a storage that does not answer.
type failingSource struct{}

func (failingSource) ReadCheckpoint(context.Context) ([]byte, error) {
	return nil, errors.New("connection refused")
}
func (failingSource) ReadTile(context.Context, uint64, uint64, uint8) ([]byte, error) {
	return nil, errors.New("connection refused")
}
func (failingSource) ReadEntryBundle(context.Context, uint64, uint8) ([]byte, error) {
	return nil, errors.New("connection refused")
}

// TestSourceHandlerUnavailable: a storage that does not answer is 503, not
// 500 or 404.
func TestSourceHandlerUnavailable(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/checkpoint", "/tile/0/000", "/tile/entries/000.p/3"} {
		w := httptest.NewRecorder()
		SourceHandler(failingSource{}).ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "refused") {
			t.Errorf("GET %s: %d %q, want 503 without the storage's error", path, w.Code, w.Body)
		}
	}
}

// TestAWSErrors: a missing bucket, DSN or database is an error naming it.
func TestAWSErrors(t *testing.T) {
	t.Parallel()
	a := newAWSTest(t)
	k := testKey(t, t.TempDir())
	tests := []struct {
		name string
		edit func(o *AWSOptions)
		want string
	}{
		{"no bucket", func(o *AWSOptions) { o.Bucket = "" }, "without a bucket"},
		{"no dsn", func(o *AWSOptions) { o.DSN = "" }, "without a database DSN"},
		{"no database", func(o *AWSOptions) { o.DSN += "_missing" }, "Unknown database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := *a.opts
			tt.edit(&o)
			l, err := Open(context.Background(), Options{AWS: &o, Key: k})
			if err == nil {
				closeTest(t, l)
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "open transparency log") {
				t.Fatalf("error %q, want %q", err, tt.want)
			}
		})
	}
}

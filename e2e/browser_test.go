package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// viewport is a screen the pages are tried on.
type viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

var (
	phone   = viewport{"phone", 360, 740, true}
	desktop = viewport{"desktop", 1280, 800, false}
)

// lockedWriter lets a process write a buffer that the test reads.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// browserT is one headless Chromium for a test, with a guard against
// requests that leave the machine.
type browserT struct {
	ctx       context.Context // the browser's first tab; parent of new tabs
	downloads string          // folder downloads go to
	guard     *outsideGuard
	// tab, if set, is the one tab newTab returns (with its viewport and
	// JavaScript setting), its network log reset: subtests that open
	// pages in turn share it.
	tab *tab
}

// outsideGuard is an HTTP proxy on 127.0.0.1 that Chromium must use for
// everything but loopback (Chromium never proxies loopback addresses). It
// forwards nothing and records every request: any entry is a request the
// browser tried to send off the machine, from a page or from the browser
// itself, and that the guard kept on it.
type outsideGuard struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
}

// newSharedGuard is an [outsideGuard] the caller closes.
func newSharedGuard() *outsideGuard {
	g := &outsideGuard{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.got = append(g.got, r.Method+" "+r.Host+r.URL.Path)
		g.mu.Unlock()
		http.Error(w, "no requests off the machine in tests", http.StatusForbidden)
	}))
	return g
}

func (g *outsideGuard) requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.got)
}

// chromiumPath finds Debian's chromium; the test fails (never skips)
// without it. Debian's /usr/bin/chromium is a shell script that adds
// Google API keys and remote extension updates from /etc/chromium.d, which
// make the browser call Google's servers; the binary it wraps is started
// directly when it is there.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
		return "/usr/lib/chromium/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: apt-get install -y chromium (.ci/run does)")
	return ""
}

// sharedChromium is one Chromium process that the package's browsers live
// in, each in a browser context of its own (own cookies, storage, cache and
// downloads, as a fresh profile would have): starting a Chromium per test
// cost a dozen processes on two cores. Started by the first [newBrowser]
// that needs it; stopped by TestMain.
type sharedChromium struct {
	once  sync.Once
	ctx   context.Context // the browser's first tab
	guard *outsideGuard
	err   error
	stop  func()
}

var (
	// shared is the Chromium of [newBrowser] without options.
	shared sharedChromium
	// sharedTLS is the Chromium of newBrowser(t, chromedp.IgnoreCertErrors),
	// for the Caddy tests (Caddy's local CA is unknown to it).
	sharedTLS sharedChromium
)

// stopShared ends the shared Chromiums that were started, and logs what
// Chromium itself tried to fetch from outside.
func stopShared() {
	for _, s := range []*sharedChromium{&shared, &sharedTLS} {
		if s.stop != nil {
			s.stop()
		}
	}
}

// get starts the shared Chromium with the allocator options extra on its
// first call and returns it.
func (s *sharedChromium) get(t *testing.T, exec string, extra ...chromedp.ExecAllocatorOption) (context.Context, *outsideGuard) {
	t.Helper()
	s.once.Do(func() {
		s.guard = newSharedGuard()
		var stop func()
		s.ctx, stop, s.err = startChromium(exec, s.guard, extra...)
		s.stop = func() {
			if stop != nil {
				stop()
			}
			s.guard.srv.Close()
			if r := s.guard.requests(); len(r) > 0 {
				fmt.Fprintf(os.Stderr, "Chromium's own requests stopped at the guard proxy (not from the pages): %q\n", r)
			}
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.ctx, s.guard
}

// startChromium starts a headless Chromium with an empty profile in a
// temporary folder and the guard as its proxy. extra adds allocator
// options (e.g. chromedp.IgnoreCertErrors for Caddy's local CA). stop ends
// the browser and removes the profile.
func startChromium(exec string, guard *outsideGuard, extra ...chromedp.ExecAllocatorOption) (ctx context.Context, stop func(), err error) {
	profile, err := os.MkdirTemp("", "chatconsent-chromium-")
	if err != nil {
		return nil, nil, err
	}
	// Spell checking would download a dictionary; a profile preference is
	// the only switch for it.
	if err := os.MkdirAll(filepath.Join(profile, "Default"), 0o700); err != nil {
		return nil, nil, err
	}
	prefs := `{"browser":{"enable_spellchecking":false},"spellcheck":{"dictionaries":[],"use_spelling_service":false}}`
	if err := os.WriteFile(filepath.Join(profile, "Default", "Preferences"), []byte(prefs), 0o600); err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exec),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// Chromium's own calls home (autofill hints, network time, sign-in,
		// component and variations updates): off, so the guard stays empty.
		chromedp.Flag("disable-features", "Translate,AutofillServerCommunication,NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,DialMediaRouteProvider,CertificateTransparencyComponentUpdater,SigninInterceptBubble,AccountConsistency,OptimizationGuideModelDownloading,OptimizationHintsFetching,OptimizationTargetPrediction,OnDeviceModelService,OptimizationGuideOnDeviceModel"),
		chromedp.Flag("disable-field-trial-config", true),
		chromedp.Flag("disable-component-extensions-with-background-pages", true),
		chromedp.Flag("safebrowsing-disable-download-protection", true),
		chromedp.Flag("google-base-url", "http://127.0.0.1:9/"),
		chromedp.Flag("gaia-url", "http://127.0.0.1:9/"),
		chromedp.Flag("component-updater", "disable-background-downloads,disable-delta-updates,url-source=http://127.0.0.1:9/"),
		chromedp.ProxyServer(guard.srv.URL),
	)
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	stop = func() {
		cancel()
		cancelA()
		os.RemoveAll(profile)
	}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		stop()
		return nil, nil, fmt.Errorf("start chromium: %w", err)
	}
	return ctx, stop, nil
}

// newBrowser returns a browser for the test: a browser context of its own
// in the shared Chromium.
func newBrowser(t *testing.T) *browserT {
	t.Helper()
	parent, guard := shared.get(t, chromiumPath(t))
	return newBrowserIn(t, parent, guard)
}

// newBrowserIgnoringCertErrors is [newBrowser] in a Chromium that ignores
// certificate errors (chromedp.IgnoreCertErrors), for Caddy's local CA.
func newBrowserIgnoringCertErrors(t *testing.T) *browserT {
	t.Helper()
	parent, guard := sharedTLS.get(t, chromiumPath(t), chromedp.IgnoreCertErrors)
	return newBrowserIn(t, parent, guard)
}

// newBrowserIn makes a browser context in the Chromium of parent.
func newBrowserIn(t *testing.T, parent context.Context, guard *outsideGuard) *browserT {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // creates the browser context and its first tab
		t.Fatalf("new browser context: %v", err)
	}
	b := &browserT{ctx: ctx, guard: guard}
	dl := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: new(true),
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
	}); err != nil {
		t.Fatalf("set download behaviour: %v", err)
	}
	b.downloads = dl
	return b
}

// tab is one browser tab with its network log.
type tab struct {
	ctx context.Context
	net *netLog
}

// netLog records every request a tab sends and the bytes it received.
type netLog struct {
	mu       sync.Mutex
	urls     []string
	bytes    map[network.RequestID]float64
	reqURL   map[network.RequestID]string
	mimeType map[network.RequestID]string
}

func (n *netLog) listen(ev any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		n.urls = append(n.urls, ev.Request.URL)
		n.reqURL[ev.RequestID] = ev.Request.URL
	case *network.EventResponseReceived:
		n.mimeType[ev.RequestID] = ev.Response.MimeType
	case *network.EventLoadingFinished:
		n.bytes[ev.RequestID] = ev.EncodedDataLength
	}
}

// requests returns the URLs of all requests so far.
func (n *netLog) requests() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.urls)
}

// reset forgets what was recorded.
func (n *netLog) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.urls = nil
	clear(n.bytes)
	clear(n.reqURL)
	clear(n.mimeType)
}

// received returns the bytes received (headers and body, as transferred)
// per URL for requests that finished.
func (n *netLog) received() map[string]float64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := map[string]float64{}
	for id, b := range n.bytes {
		m[n.reqURL[id]] += b
	}
	return m
}

// mimeTypes returns the MIME type of each response by URL.
func (n *netLog) mimeTypes() map[string]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := map[string]string{}
	for id, mt := range n.mimeType {
		m[n.reqURL[id]] = mt
	}
	return m
}

// newTab opens a tab with the viewport and JavaScript on or off; its
// actions must end within 2 minutes.
func (b *browserT) newTab(t *testing.T, vp viewport, js bool) *tab {
	t.Helper()
	if b.tab != nil {
		b.tab.net.reset()
		return b.tab
	}
	return b.newTabFor(t, vp, js, 2*time.Minute)
}

// newTabFor is [browserT.newTab] for a tab that lives for d, e.g. one tab
// that a test's subtests share.
func (b *browserT) newTabFor(t *testing.T, vp viewport, js bool, d time.Duration) *tab {
	t.Helper()
	nl := &netLog{bytes: map[network.RequestID]float64{}, reqURL: map[network.RequestID]string{}, mimeType: map[network.RequestID]string{}}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(nl.listen))
	ctx, cancelT := context.WithTimeout(ctx, d)
	t.Cleanup(func() { cancelT(); cancel() })
	opts := []chromedp.EmulateViewportOption{}
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.Width, vp.Height, opts...)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !js}); err != nil {
		t.Fatalf("script execution: %v", err)
	}
	// Prove the switch works: a page script sets the title only with
	// JavaScript on.
	if err := chromedp.Do(ctx, chromedp.Navigate(`data:text/html,<title>off</title><script>document.title="on"</script>`)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Title())
	if want := map[bool]string{true: "on", false: "off"}[js]; err != nil || got != want {
		t.Fatalf("JavaScript switch: page title %q, %v; want %q", got, err, want)
	}
	nl.reset()
	return &tab{ctx: ctx, net: nl}
}

// assertLoopbackOnly fails if the tab sent a request to anything but
// 127.0.0.1 (or [::1]).
func (b *browserT) assertLoopbackOnly(t *testing.T, tb *tab) {
	t.Helper()
	for _, u := range tb.net.requests() {
		pu, err := url.Parse(u)
		if err != nil {
			t.Errorf("request to unparsable URL %q", u)
			continue
		}
		if pu.Scheme == "data" || pu.Scheme == "about" {
			continue
		}
		host := pu.Hostname()
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Errorf("request left 127.0.0.1: %s", u)
		}
	}
}

// download waits for the download that click starts and returns the file's
// bytes.
func (b *browserT) download(t *testing.T, tb *tab, click chromedp.Action[chromedp.Void]) []byte {
	t.Helper()
	begin := chromedp.BrowserEvents(tb.ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(tb.ctx, browser.DownloadProgress)
	if err := chromedp.Do(tb.ctx, click); err != nil {
		t.Fatalf("click the receipt link: %v", err)
	}
	// Browser events come from every tab of the shared Chromium: this
	// tab's download is the one its main frame (whose id is the tab's
	// target id) started.
	frame := cdp.FrameID(chromedp.FromContext(tb.ctx).Target.TargetID)
	var guid string
	for ev, err := range begin {
		if err != nil {
			t.Fatalf("no download started: %v", err)
		}
		if ev.FrameID != frame {
			continue
		}
		guid = ev.GUID
		if !strings.HasSuffix(ev.SuggestedFilename, ".pdf") {
			t.Errorf("download named %q, want *.pdf", ev.SuggestedFilename)
		}
		break
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download did not finish: %v", err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatalf("download cancelled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(b.downloads, guid))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Package e2e holds the browser tests of chatconsent: the real binary serves
// the built site and the collector on 127.0.0.1, Debian's Chromium (driven
// headless over the Chrome DevTools Protocol with chromedp) clicks through
// the pages as a data subject would, on a phone and on a desktop viewport,
// with JavaScript on and off, and axe-core (npm, installed into
// node_modules/ by "npm ci" in this folder) checks every page type against
// the WCAG 2.0, 2.1 and 2.2 A and AA rules.
//
// A further test puts Caddy (Debian's caddy, with its internal CA) in front
// of the collector, as deploy/Caddyfile does on a server, and runs the grant
// flow through it over HTTPS.
//
// The package has no code of its own; everything is in the _test.go files.
// The tools are installed by ./test.sh (the README's test command, which
// .ci/run runs); a missing tool fails the tests with a hint, it never
// skips them.
package e2e

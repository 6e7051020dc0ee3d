// Package themes holds the built-in theme and loads a theme with the site's
// overrides, for the generator (static pages) and the collector (the pages
// it answers with: thank-you and error pages).
//
// # Layout of a theme
//
//	default/layouts/*.html   html/template files; baseof.html defines the
//	                         page frame, every other file defines "main"
//	default/i18n/LANG.toml   the theme's strings per language (flat keys)
//	default/style.css        inlined into every page (no extra request)
//
// A site overrides single files the way Hugo does: SITE/layouts/NAME.html
// replaces the theme's layouts/NAME.html, SITE/i18n/LANG.toml replaces
// single keys of the theme's strings.
package themes

import "embed"

// Default is the built-in theme, rooted at "default".
//
//go:embed all:default
var Default embed.FS

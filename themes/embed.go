// Package themes holds the built-in theme and loads a theme with the site's
// overrides, for the generator (static pages), the collector (the pages
// it answers with: the forms again with their errors, thank-you, error,
// invite and withdrawal pages) and the receipts' labels (package proof).
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
//
// # Forms
//
// The consent and withdrawal layouts render their text inputs by ranging
// over [Form.ConsentInputs] and [Form.WithdrawalInputs]: the rows of
// internal/fields' table with an input (type, label, hint, limit,
// required), each with its value and error. A field added to the table
// therefore appears on the forms with only its strings added to
// i18n/LANG.toml (its label, hint and err_NAME messages). A site's own
// layout may still name the fields itself (.Values.Name, .ErrorFor
// "name"); it must post no field outside the table.
package themes

import "embed"

// Default is the built-in theme, rooted at "default".
//
//go:embed all:default
var Default embed.FS

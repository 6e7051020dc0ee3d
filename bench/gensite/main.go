// Command gensite writes the benchmark's sites: N Markdown pages, byte for
// byte the same for chatconsent and for Hugo, with equivalent templates
// (one frame with inlined CSS, a header, the page, a footer).
//
//	go run ./bench/gensite -n 1000 -out DIR
//
// writes DIR/chatconsent (config.toml, content/de/pNNNN.md) and DIR/hugo
// (hugo.toml, content/pNNNN.md, layouts/).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatconsent/chatconsent/themes"
)

func main() {
	n := flag.Int("n", 1000, "number of pages")
	out := flag.String("out", "", "output `folder`")
	flag.Parse()
	if *out == "" {
		log.Fatal("gensite: -out is required")
	}
	css, err := themes.Default.ReadFile("default/style.css")
	if err != nil {
		log.Fatal(err)
	}
	cc, hugo := filepath.Join(*out, "chatconsent"), filepath.Join(*out, "hugo")
	write(filepath.Join(cc, "config.toml"), ccConfig)
	write(filepath.Join(hugo, "hugo.toml"), hugoConfig)
	write(filepath.Join(hugo, "layouts", "_default", "baseof.html"), hugoBase)
	write(filepath.Join(hugo, "layouts", "_default", "page.html"), hugoPage)
	write(filepath.Join(hugo, "layouts", "_default", "single.html"), hugoPage)
	write(filepath.Join(hugo, "layouts", "index.html"), hugoIndex)
	write(filepath.Join(hugo, "layouts", "404.html"), hugoNotFound)
	write(filepath.Join(hugo, "layouts", "partials", "style.html"), "<style>"+string(css)+"</style>")
	r := rng(1)
	for i := range *n {
		page := genPage(i, &r)
		name := fmt.Sprintf("p%04d.md", i)
		write(filepath.Join(cc, "content", "de", name), page)
		write(filepath.Join(hugo, "content", name), page)
	}
}

func write(p, s string) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		log.Fatal(err)
	}
}

type rng uint64

func (r *rng) next(n int) int {
	*r = *r*6364136223846793005 + 1442695040888963407
	return int(uint64(*r>>33) % uint64(n))
}

var words = strings.Fields(`Einwilligung Daten Verarbeitung Zweck Nachricht Kunde Bestellung Reparatur
Rechnung Angebot Widerruf jederzeit freiwillig gespeichert Nachweis Frist Telefon Adresse
Verantwortlicher Empfänger Übermittlung Drittland Rechtsgrundlage Löschung Auskunft Berichtigung
Beschwerde Aufsichtsbehörde Vertrag Kontakt Adressbuch Profil Anbieter Schutz Sicherheit Zugriff
und oder aber wir Sie Ihre unsere für mit bei nach über unter wenn damit dass weil`)

func sentence(r *rng, n int) string {
	var b strings.Builder
	for i := range n {
		w := words[r.next(len(words))]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		switch r.next(12) {
		case 0:
			w = "**" + w + "**"
		case 1:
			w = "_" + w + "_"
		case 2:
			w = `"` + w + `"`
		}
		b.WriteString(w)
	}
	return b.String() + "."
}

func para(r *rng) string {
	var s []string
	for range 3 + r.next(3) {
		s = append(s, sentence(r, 8+r.next(10)))
	}
	return strings.Join(s, " ")
}

// genPage is a page of about 4 KB: headings (one with a fixed {#id}),
// paragraphs with emphasis and quotes, a list, a table, a link, a footnote.
func genPage(i int, r *rng) string {
	var b strings.Builder
	fmt.Fprintf(&b, "+++\ntitle = \"Seite %d: %s\"\nlayout = \"page\"\nslug = \"seite-%04d\"\n+++\n\n", i, words[r.next(len(words))], i)
	fmt.Fprintf(&b, "%s Mehr dazu [auf Seite %d](/de/seite-%04d/).\n\n", para(r), (i+1)%1000, (i+1)%1000)
	for s := range 3 {
		fmt.Fprintf(&b, "## Abschnitt %d.%d über %s\n\n%s\n\n%s\n\n", i, s, words[r.next(len(words))], para(r), para(r))
		for range 4 {
			fmt.Fprintf(&b, "- %s\n", sentence(r, 5+r.next(5)))
		}
		b.WriteString("\n")
	}
	b.WriteString("| Daten | Zweck | Frist |\n|---|---|---|\n")
	for range 4 {
		fmt.Fprintf(&b, "| %s | %s | %d Monate |\n", words[r.next(len(words))], words[r.next(len(words))], 1+r.next(36))
	}
	fmt.Fprintf(&b, "\n### Ihre Rechte {#rechte-%d}\n\n%s[^1]\n\n[^1]: %s\n", i, para(r), sentence(r, 8))
	return b.String()
}

const ccConfig = `[site]
title = "Benchmark"
base_url = "http://127.0.0.1:8080/"
default_language = "de"
languages = ["de"]

[controller]
name = "Fahrradladen Beispiel GmbH"
address = "Musterstraße 12, 10115 Berlin"
email = "datenschutz@fahrradladen.example"

[collector]
public_url = "http://127.0.0.1:8080/"

[[purposes]]
id = "orders"
title = "Bestellungen"
description = "Rückfragen zu Bestellungen."
`

// hugoConfig turns off what chatconsent does not make either (taxonomies,
// sections, RSS, sitemap, robots.txt); goldmark's defaults match ours:
// GFM tables, footnotes, typographer, heading ids, {#id} attributes, raw
// HTML off.
const hugoConfig = `baseURL = "http://127.0.0.1:8080/"
title = "Benchmark"
languageCode = "de"
defaultContentLanguage = "de"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "section"]
[markup.goldmark.parser.attribute]
title = true
`

const hugoBase = `<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{ .Title }} – {{ site.Title }}</title>
{{ partialCached "style.html" . }}
</head>
<body>
<a class="skip" href="#main">Zum Inhalt springen</a>
<header>
<p class="site">{{ site.Title }}</p>
</header>
<main id="main">
{{ block "main" . }}{{ end }}
</main>
<footer>
<p><a href="/de/datenschutz/">Datenschutzhinweise</a> · <a href="/de/einwilligung/">Einwilligung</a></p>
<p>Diese Seite setzt keine Cookies und lädt nichts von Dritten.</p>
</footer>
</body>
</html>
`

const hugoPage = `{{ define "main" }}
<article class="prose">
<h1>{{ .Title }}</h1>
{{ .Content }}
</article>
{{ end }}
`

const hugoIndex = `{{ define "main" }}
<article class="prose">
<h1>{{ site.Title }}</h1>
</article>
{{ end }}
`

const hugoNotFound = `{{ define "main" }}
<h1>Seite nicht gefunden</h1>
<p>Diese Seite gibt es nicht (mehr).</p>
{{ end }}
`

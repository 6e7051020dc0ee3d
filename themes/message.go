package themes

import (
	"html/template"
	"strings"
)

// Message is the body of a page the collector writes besides the form
// (an error, a refused link, a used invite): plain-text paragraphs, an
// optional hint and an optional link button. [Message.HTML] escapes every
// part through html/template, so no caller builds HTML from strings; the
// result goes into [Page.Content], which every layout (and a site's own
// override of one) already shows.
type Message struct {
	// Paragraphs are shown in order, one <p> each.
	Paragraphs []string
	// Hint, if set, is a smaller paragraph under them (class "hint"), e.g.
	// the technical detail of a refused request.
	Hint string
	// Link, if set, is a button under them, e.g. the personal withdrawal
	// page of a used invite.
	Link *Link
}

// Link is a link button: its URL (absolute or site-relative) and its text.
type Link struct{ URL, Text string }

// Text is a [Message] of one paragraph.
func Text(paragraph string) Message { return Message{Paragraphs: []string{paragraph}} }

var messageTpl = template.Must(template.New("message").Parse(
	`{{range .Paragraphs}}<p>{{.}}</p>{{end}}` +
		`{{with .Hint}}<p class="hint">{{.}}</p>{{end}}` +
		`{{with .Link}}<p><a class="button" href="{{.URL}}">{{.Text}}</a></p>{{end}}`))

// HTML renders m. Executing the fixed template on strings into a
// strings.Builder cannot fail, so there is no error to return.
func (m Message) HTML() template.HTML {
	var b strings.Builder
	_ = messageTpl.Execute(&b, m)
	return template.HTML(b.String())
}

// LinkList is a list of links (<ul> of <li><a>), each marked with the
// language of its page, e.g. the site's entry page and its "not found"
// page linking the main pages of every language.
type LinkList []LangLink

// LangLink is one entry of a [LinkList]: URL, text, and the language
// (BCP 47 tag) of the page it leads to (hreflang and lang).
type LangLink struct{ URL, Text, Lang string }

var linkListTpl = template.Must(template.New("links").Parse(
	`<ul>{{range .}}<li><a href="{{.URL}}" hreflang="{{.Lang}}" lang="{{.Lang}}">{{.Text}}</a></li>{{end}}</ul>`))

// HTML renders l (an empty list gives an empty <ul></ul>).
func (l LinkList) HTML() template.HTML {
	var b strings.Builder
	_ = linkListTpl.Execute(&b, l)
	return template.HTML(b.String())
}

package generator

import (
	"fmt"
	"slices"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark/ast"
	"golang.org/x/net/html"
)

// rawHTMLPolicy is the inline markup that raw HTML in Markdown may use
// without site.unsafe_html: line breaks, super- and subscripts,
// abbreviations and text-level emphasis, nothing with a link, a script, a
// style or a layout of its own. bluemonday (the sanitizer behind many Go
// sites, e.g. Gitea) decides what of a piece of HTML stays; convert
// refuses any piece of which it would drop something, so no text of a
// legal notice disappears without a word.
var rawHTMLPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(allowedRawElements...)
	p.AllowAttrs("title").OnElements("abbr", "dfn")
	return p
}()

var allowedRawElements = []string{"br", "wbr", "sup", "sub", "abbr", "dfn", "kbd", "small", "mark", "s", "u", "i", "b", "em", "strong", "del", "ins", "q", "cite", "bdi"}

// sanitizeRawHTML replaces each piece of raw HTML in doc (inline tags and
// HTML blocks) by what rawHTMLPolicy keeps of it, and fails naming
// file:line:column and the first element, attribute or text the policy
// would drop. HTML comments are not shown by a browser either and go
// without an error.
func sanitizeRawHTML(doc ast.Node, src []byte, pos positions) error {
	type piece struct {
		node ast.Node
		segs []segment
	}
	var pieces []piece
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.RawHTML:
			var segs []segment
			for i := 0; i < n.Segments.Len(); i++ {
				s := n.Segments.At(i)
				segs = append(segs, segment{s.Start, s.Stop})
			}
			pieces = append(pieces, piece{n, segs})
		case *ast.HTMLBlock:
			var segs []segment
			for i := 0; i < n.Lines().Len(); i++ {
				s := n.Lines().At(i)
				segs = append(segs, segment{s.Start, s.Stop})
			}
			if n.HasClosure() {
				segs = append(segs, segment{n.ClosureLine.Start, n.ClosureLine.Stop})
			}
			pieces = append(pieces, piece{n, segs})
		}
		return ast.WalkContinue, nil
	})
	for _, p := range pieces {
		var b strings.Builder
		for _, s := range p.segs {
			b.Write(src[s.start:s.stop])
		}
		raw := b.String()
		clean := rawHTMLPolicy.Sanitize(raw)
		if at, what := dropped(raw, clean); what != "" {
			return mdErrorf("%s: raw HTML %s would not be shown (allowed: <%s>): write it in Markdown, or set site.unsafe_html = true",
				pos.at(offsetIn(p.segs, at)), what, strings.Join(allowedRawElements, ">, <"))
		}
		parent := p.node.Parent()
		if parent == nil {
			continue
		}
		var repl ast.Node
		if _, inline := p.node.(*ast.RawHTML); !inline && strings.TrimSpace(clean) == "" {
			parent.RemoveChild(parent, p.node) // a comment
			continue
		} else if inline {
			s := ast.NewString([]byte(clean))
			s.SetCode(true)
			repl = s
		} else {
			// A block of allowed inline markup only: a paragraph of it.
			para := ast.NewParagraph()
			s := ast.NewString([]byte(strings.TrimRight(clean, "\n")))
			s.SetCode(true)
			para.AppendChild(para, s)
			repl = para
		}
		parent.ReplaceChild(parent, p.node, repl)
	}
	return nil
}

type segment struct{ start, stop int }

// offsetIn maps an offset in the concatenated segments to the source.
func offsetIn(segs []segment, at int) int {
	for _, s := range segs {
		if at < s.stop-s.start {
			return s.start + at
		}
		at -= s.stop - s.start
	}
	if len(segs) > 0 {
		return segs[len(segs)-1].stop
	}
	return 0
}

// token is an HTML token compared between raw and sanitized HTML: a tag
// with its sorted attributes, or text (unescaped, runs joined).
type token struct {
	at   int // byte offset in its HTML
	kind html.TokenType
	name string
	attr []html.Attribute
	text string
}

func (t token) same(u token) bool {
	return t.kind == u.kind && t.name == u.name && t.text == u.text && slices.Equal(t.attr, u.attr)
}

func tokens(s string) []token {
	z := html.NewTokenizer(strings.NewReader(s))
	var out []token
	at := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		raw := len(z.Raw())
		tk := z.Token()
		switch tt {
		case html.CommentToken, html.DoctypeToken:
		case html.TextToken:
			if n := len(out); n > 0 && out[n-1].kind == html.TextToken {
				out[n-1].text += tk.Data
			} else {
				out = append(out, token{at: at, kind: tt, text: tk.Data})
			}
		default:
			if tt == html.SelfClosingTagToken {
				tt = html.StartTagToken // <br/> is <br>
			}
			a := slices.Clone(tk.Attr)
			slices.SortFunc(a, func(x, y html.Attribute) int { return strings.Compare(x.Key, y.Key) })
			out = append(out, token{at: at, kind: tt, name: tk.Data, attr: a})
		}
		at += raw
	}
}

// dropped returns the first part of raw (its byte offset and a
// description) that clean lacks, or "" when clean keeps everything.
func dropped(raw, clean string) (at int, what string) {
	have := tokens(clean)
	j := 0
	for _, t := range tokens(raw) {
		if j < len(have) && t.same(have[j]) {
			j++
			continue
		}
		switch {
		case t.kind == html.TextToken:
			if strings.TrimSpace(t.text) == "" {
				continue // whitespace between dropped tags
			}
			return t.at, fmt.Sprintf("text %q", shorten(strings.TrimSpace(t.text)))
		case t.kind == html.EndTagToken:
			return t.at, "</" + t.name + ">"
		default:
			if j < len(have) && have[j].kind == html.StartTagToken && have[j].name == t.name {
				for _, a := range t.attr {
					if !slices.Contains(have[j].attr, a) {
						return t.at, fmt.Sprintf("attribute %s of <%s>", a.Key, t.name)
					}
				}
			}
			return t.at, "<" + t.name + ">"
		}
	}
	return 0, ""
}

func shorten(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

package generator

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

// knownPlaceholders lists, for error messages, what content may use.
const knownPlaceholders = "known: .Controller.Name, .Controller.Address, .Controller.Email, .Controller.Phone, .Site.Title, .PolicyURL, .ConsentURL, .WithdrawalURL, .Lang, .Mail, .Retention.ProofYears, .Retention.ProofPeriod, .LogKey, {{ range .Purposes }} with .ID, .Title, .Description {{ end }}, {{ if … }}; see the README, Content"

var (
	// text/template's errors: "template: NAME:LINE[:COL]: [executing "NAME"
	// at <ACTION>: ]MESSAGE".
	templateErrRe = regexp.MustCompile(`^template: (.+?):(\d+)(?::(\d+))?: (?:executing "[^"]*" at <([^>]*)>: )?(.*)$`)
	unclosedRe    = regexp.MustCompile(`^unclosed action started at .+:(\d+)$`)
)

// placeholderError turns a text/template error from a content file's
// placeholders into "FILE:LINE[:COL]: placeholder …" in the owner's terms,
// naming what the README lists; other errors are returned unchanged.
// Unknown names never reach execution ([checkPlaceholders] refuses them
// first), so execution errors get the generic form.
func placeholderError(err error) error {
	m := templateErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	where := m[1] + ":" + m[2]
	if m[3] != "" {
		where += ":" + m[3]
	}
	if u := unclosedRe.FindStringSubmatch(m[5]); u != nil {
		return fmt.Errorf("%s:%s: placeholder syntax: a {{ is not closed by }}", m[1], u[1])
	}
	if m[4] == "" { // a parse error: the {{ … }} syntax itself
		return fmt.Errorf("%s: placeholder syntax: %s (placeholders look like {{ .Controller.Name }})", where, m[5])
	}
	return fmt.Errorf("%s: placeholder {{ %s }}: %s (%s)", where, m[4], m[5], knownPlaceholders)
}

// Placeholders a content file may use: fields of [MarkdownData], and
// inside {{ range .Purposes }} the fields of a [PurposeText]. Nothing else
// of Go's template language (functions, variables, other templates, the
// whole data with {{ . }}): the owner's page must never show Go's output
// for a struct, a path on the server, or run for ever.
var (
	topFields = map[string]bool{
		"Controller.Name": true, "Controller.Address": true, "Controller.Email": true, "Controller.Phone": true,
		"Site.Title": true, "PolicyURL": true, "ConsentURL": true, "WithdrawalURL": true, "Lang": true, "Mail": true,
		"Retention.ProofYears": true, "Retention.ProofPeriod": true, "LogKey": true,
	}
	purposeFields = map[string]bool{"ID": true, "Title": true, "Description": true}
)

// checkPlaceholders returns an error naming file:line:col of the first
// action in tpl that is not a known placeholder, {{ if PLACEHOLDER }},
// {{ range .Purposes }} or a comment.
func checkPlaceholders(tpl *texttemplate.Template) error {
	tree := tpl.Tree
	if len(tpl.Templates()) > 1 {
		return fmt.Errorf("%s: {{ define }} is not allowed in content (%s)", tree.ParseName, knownPlaceholders)
	}
	bad := func(n parse.Node, why string) error {
		loc, ctx := tree.ErrorContext(n)
		if !strings.HasPrefix(ctx, "{{") {
			ctx = "{{" + ctx + "}}"
		}
		if r := []rune(ctx); len(r) > 60 {
			ctx = string(r[:57]) + "…"
		}
		return fmt.Errorf("%s: %s %s (%s)", loc, why, ctx, knownPlaceholders)
	}
	// field checks that pipe is exactly one allowed field.
	field := func(n parse.Node, pipe *parse.PipeNode, inPurpose bool) error {
		if pipe == nil || len(pipe.Decl) > 0 || len(pipe.Cmds) != 1 || len(pipe.Cmds[0].Args) != 1 {
			return bad(n, "not a placeholder")
		}
		f, ok := pipe.Cmds[0].Args[0].(*parse.FieldNode)
		if !ok {
			return bad(n, "not a placeholder")
		}
		name := strings.Join(f.Ident, ".")
		if (inPurpose && !purposeFields[name]) || (!inPurpose && !topFields[name]) {
			where := ""
			if inPurpose {
				where = " inside {{ range .Purposes }}"
			}
			return bad(n, "unknown placeholder"+where)
		}
		return nil
	}
	var walk func(n parse.Node, inPurpose bool) error
	walk = func(n parse.Node, inPurpose bool) error {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Nodes {
				if err := walk(c, inPurpose); err != nil {
					return err
				}
			}
			return nil
		case *parse.TextNode, *parse.CommentNode:
			return nil
		case *parse.ActionNode:
			return field(n, n.Pipe, inPurpose)
		case *parse.IfNode:
			if err := field(n, n.Pipe, inPurpose); err != nil {
				return err
			}
			if err := walk(n.List, inPurpose); err != nil {
				return err
			}
			return walk(n.ElseList, inPurpose)
		case *parse.RangeNode:
			p := n.Pipe
			if inPurpose || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
				return bad(n, "only {{ range .Purposes }} … {{ end }} is allowed, not")
			}
			if f, ok := p.Cmds[0].Args[0].(*parse.FieldNode); !ok || strings.Join(f.Ident, ".") != "Purposes" {
				return bad(n, "only {{ range .Purposes }} … {{ end }} is allowed, not")
			}
			if err := walk(n.List, true); err != nil {
				return err
			}
			return walk(n.ElseList, false)
		}
		return bad(n, "not a placeholder")
	}
	return walk(tree.Root, false)
}

// ErrNoLogKey is wrapped when a content file prints {{ .LogKey }} but the
// build has no checkpoint verifier key.
var ErrNoLogKey = errors.New("no checkpoint verifier key yet")

// checkLogKey refuses a template that prints {{ .LogKey }} outside an
// {{ if .LogKey }} when there is no key: the notice would name an empty
// key.
func checkLogKey(tpl *texttemplate.Template, have bool) error {
	if have {
		return nil
	}
	tree := tpl.Tree
	var find func(n parse.Node, guarded bool) parse.Node
	find = func(n parse.Node, guarded bool) parse.Node {
		isKey := func(p *parse.PipeNode) bool {
			if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
				return false
			}
			f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
			return ok && strings.Join(f.Ident, ".") == "LogKey"
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Nodes {
				if r := find(c, guarded); r != nil {
					return r
				}
			}
		case *parse.ActionNode:
			if !guarded && isKey(n.Pipe) {
				return n
			}
		case *parse.IfNode:
			if r := find(n.List, guarded || isKey(n.Pipe)); r != nil {
				return r
			}
			return find(n.ElseList, guarded)
		case *parse.RangeNode:
			if r := find(n.List, guarded); r != nil {
				return r
			}
			return find(n.ElseList, guarded)
		}
		return nil
	}
	if n := find(tree.Root, false); n != nil {
		loc, _ := tree.ErrorContext(n)
		return fmt.Errorf("%s: placeholder {{ .LogKey }}: %w: run chatconsent keygen (it writes DATA/checkpoint.vkey; the collector does on its first start), copy that file from the collector's data folder, or give build --log-key KEY; or write {{ if .LogKey }} … {{ end }} around it", loc, ErrNoLogKey)
	}
	return nil
}

package generator

import (
	"fmt"
	"regexp"
)

var (
	// text/template's errors: "template: NAME:LINE[:COL]: [executing "NAME"
	// at <ACTION>: ]MESSAGE".
	templateErrRe = regexp.MustCompile(`^template: (.+?):(\d+)(?::(\d+))?: (?:executing "[^"]*" at <([^>]*)>: )?(.*)$`)
	noFieldRe     = regexp.MustCompile(`^can't evaluate field (\S+) in type (\S+)$`)
	unclosedRe    = regexp.MustCompile(`^unclosed action started at .+:(\d+)$`)
)

// placeholderError turns a text/template error from a content file's
// placeholders into "FILE:LINE[:COL]: placeholder …" in the owner's terms,
// naming what the README lists; other errors are returned unchanged.
func placeholderError(err error) error {
	m := templateErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	where := m[1] + ":" + m[2]
	if m[3] != "" {
		where += ":" + m[3]
	}
	const known = "known: .Controller.Name, .Controller.Address, .Controller.Email, .Controller.Phone, .Site.Title, .Purposes (.Title, .Description), .PolicyURL, .ConsentURL, .WithdrawalURL; see the README, Content"
	if u := unclosedRe.FindStringSubmatch(m[5]); u != nil {
		return fmt.Errorf("%s:%s: placeholder syntax: a {{ is not closed by }}", m[1], u[1])
	}
	if m[4] == "" { // a parse error: the {{ … }} syntax itself
		return fmt.Errorf("%s: placeholder syntax: %s (placeholders look like {{ .Controller.Name }})", where, m[5])
	}
	if f := noFieldRe.FindStringSubmatch(m[5]); f != nil {
		return fmt.Errorf("%s: unknown placeholder {{ %s }}: there is no %s (%s)", where, m[4], f[1], known)
	}
	return fmt.Errorf("%s: placeholder {{ %s }}: %s (%s)", where, m[4], m[5], known)
}

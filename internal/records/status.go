package records

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// WriteStatus writes what the owner needs to know about one number: the
// state of each purpose with the text version and time it was set, then
// every event, times in Europe/Berlin.
func (b *Book) WriteStatus(w io.Writer, p *Person, m *textarchive.Manifest) error {
	if IsErased(p.Phone) {
		fmt.Fprintf(w, "erased on %s (erasure record %s): number, name and e-mail are gone", p.Erased.In(Berlin()).Format("2006-01-02 15:04"), strings.TrimPrefix(p.Phone, ErasedPrefix))
	} else {
		fmt.Fprintf(w, "%s  %s", p.Phone, oneLine(p.Name))
	}
	if p.Email != "" {
		fmt.Fprintf(w, "  <%s>", p.Email)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PURPOSE\tSTATE\tSINCE (Berlin)\tTEXT VERSION\tDECISION")
	for _, s := range b.Status(p, m) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Shown, s.Since.In(Berlin()).Format("2006-01-02 15:04:05"), short(s.TextVersion), s.Decision)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "EVENTS")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range p.Events {
		r := e.Record
		var what string
		switch r.Type {
		case ledger.TypeInvite:
			what = "invite link opened"
			if r.Expires != nil {
				what += " (valid until " + r.Expires.In(Berlin()).Format("2006-01-02 15:04") + ")"
			}
		case ledger.TypeDecision:
			what = r.Decision + " " + strings.Join(r.Purposes, ", ")
			if r.Decision == ledger.Granted {
				// A grant refuses every other purpose on its form (see the
				// package doc); one added to the config later was not on
				// the form and is not named here (its state: not asked).
				var left []string
				for _, id := range b.purposes {
					if !slices.Contains(r.Purposes, id) && Asked(m, r.TextVersion, id) {
						left = append(left, id)
					}
				}
				if len(left) > 0 {
					what += " (every other purpose refused: " + strings.Join(left, ", ") + ")"
				}
			}
			what += " on text " + short(r.TextVersion)
			if r.Invite != "" {
				what += " via invite " + short(r.Invite)
			} else {
				// Anyone can type any number there: only an invite link
				// shows that the number's holder decided.
				what += " on the public form (number not confirmed)"
			}
		case ledger.TypeWithdrawal:
			what = "withdrew " + strings.Join(r.Purposes, ", ") + " of decision " + short(r.Ref) + " (" + r.Via
			if r.By != "" {
				what += ", recorded by " + oneLine(r.By)
			}
			if r.Note != "" {
				what += ": " + strconv.Quote(r.Note)
			}
			what += ")"
		case ledger.TypeErasure:
			what = "number, name and e-mail erased (reason: " + r.Reason + "); purposes, times and text versions kept"
		default:
			what = r.Type
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Time.In(Berlin()).Format("2006-01-02 15:04:05"), r.Type, r.ID, what)
	}
	return tw.Flush()
}

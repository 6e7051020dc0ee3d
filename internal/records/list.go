package records

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	_ "time/tzdata" // Europe/Berlin without the system's zoneinfo

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/fields"
)

// Berlin is the zone times are shown in; stored times stay UTC.
var Berlin = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.UTC
	}
	return loc
})

// Row is one decision or withdrawal as listed for the owner.
type Row struct {
	Time        time.Time `json:"time"`
	Type        string    `json:"type"`
	ID          string    `json:"id"`
	Phone       string    `json:"phone"`
	Name        string    `json:"name"`
	Email       string    `json:"email,omitempty"`
	Decision    string    `json:"decision"`
	Purposes    []string  `json:"purposes"`
	Lang        string    `json:"lang"`
	TextVersion string    `json:"text_version"`
	Invite      string    `json:"invite,omitempty"`
	Ref         string    `json:"ref,omitempty"`
	// Erased is when the person's personal data were erased; Phone then
	// reads "erased on DATE" and Name and Email are "".
	Erased *time.Time `json:"erased,omitempty"`
}

// Rows returns the decisions and withdrawals at or after since (zero: all),
// in log order.
func (b *Book) Rows(since time.Time) []Row {
	var rows []Row
	for _, e := range b.events {
		r := e.Record
		if (r.Type != ledger.TypeDecision && r.Type != ledger.TypeWithdrawal) || r.Time.Before(since) {
			continue
		}
		row := Row{
			Time: r.Time, Type: r.Type, ID: r.ID, Decision: r.Decision, Purposes: r.Purposes,
			Lang: r.Lang, TextVersion: r.TextVersion, Invite: r.Invite, Ref: r.Ref,
		}
		if row.Purposes == nil {
			row.Purposes = []string{}
		}
		if r.Subject != nil {
			row.Phone, row.Name, row.Email = r.Subject.Phone, r.Subject.Name, r.Subject.Email
		}
		if IsErased(row.Phone) {
			row.Phone, row.Name, row.Email = "erased", "", ""
			if p := b.people[r.Subject.Phone]; p != nil && !p.Erased.IsZero() {
				t := p.Erased
				row.Erased = &t
				row.Phone = "erased on " + t.In(Berlin()).Format("2006-01-02")
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// CSVHeader is the first line [WriteCSV] writes: the record's time, type
// and id, the data subject's columns (internal/fields' export column:
// phone, name, email), then the decision's.
var CSVHeader = slices.Concat(
	[]string{"time_utc", "time_berlin", "type", "id"},
	fields.ExportColumns(fields.All),
	[]string{"decision", "purposes", "lang", "text_version", "invite", "ref"},
)

// Subject returns the row's value of the data subject's column col (one
// of internal/fields' export columns), "" for an unknown column.
func (r Row) Subject(col string) string {
	switch col {
	case fields.Phone:
		return r.Phone
	case fields.Name:
		return r.Name
	case fields.Email:
		return r.Email
	}
	return ""
}

// subjectCells are the data subject's cells of a CSV line: typed text
// that a spreadsheet could run as a formula is defused ([safeCell]),
// except in the column that identifies the person (the number, E.164 by
// construction, whose "+" is kept).
func subjectCells(r Row) []string {
	var out []string
	for _, col := range fields.ExportColumns(fields.All) {
		v := r.Subject(col)
		if !slices.ContainsFunc(fields.All, func(f fields.Field) bool { return f.Export == col && f.IdentifiesPerson }) {
			v = safeCell(v)
		}
		out = append(out, v)
	}
	return out
}

// WriteCSV writes rows as CSV (RFC 4180, comma, CRLF line ends as
// spreadsheets expect) with a header line. Purposes are separated by
// spaces. Cells a spreadsheet would run as a formula (starting with =, +,
// -, @, tab or CR) get a leading apostrophe (OWASP "CSV injection"); the
// "+" of a phone number is kept, as numbers are E.164 by construction.
func WriteCSV(w io.Writer, rows []Row) error { return writeCSV(w, rows, ',') }

// WriteCSVExcel writes rows as [WriteCSV] does, in the dialect that
// spreadsheet programs set to German (Excel, LibreOffice, Numbers) open
// without an import dialogue: a UTF-8 byte order mark first (else umlauts
// show as "Ã¼") and ';' between cells (',' is their decimal separator).
func WriteCSVExcel(w io.Writer, rows []Row) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	return writeCSV(w, rows, ';')
}

func writeCSV(w io.Writer, rows []Row, comma rune) error {
	cw := csv.NewWriter(w)
	cw.Comma = comma
	cw.UseCRLF = true
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, r := range rows {
		rec := slices.Concat(
			[]string{r.Time.UTC().Format(time.RFC3339), r.Time.In(Berlin()).Format("2006-01-02 15:04:05"), r.Type, r.ID},
			subjectCells(r),
			[]string{r.Decision, strings.Join(r.Purposes, " "), r.Lang, r.TextVersion, r.Invite, r.Ref},
		)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteJSON writes rows as one indented JSON array.
func WriteJSON(w io.Writer, rows []Row) error {
	if rows == nil {
		rows = []Row{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// WriteTable writes rows as aligned columns for a terminal, times in
// Europe/Berlin, ids and versions shortened to 12 digits (enough to find
// them with grep).
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (Berlin)\tNUMBER\tNAME\tDECISION\tPURPOSES\tLANG\tTEXT\tID\tVIA INVITE")
	for _, r := range rows {
		d := r.Decision
		if r.Type == ledger.TypeWithdrawal {
			d = "withdrawn (of " + short(r.Ref) + ")"
		}
		inv := "-"
		if r.Invite != "" {
			inv = short(r.Invite)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Time.In(Berlin()).Format("2006-01-02 15:04"), r.Phone, oneLine(r.Name), d,
			strings.Join(r.Purposes, ","), r.Lang, short(r.TextVersion), short(r.ID), inv)
	}
	return tw.Flush()
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// oneLine keeps a name from breaking the table (names are checked on
// input, this is a second line of defence for hand-made logs).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// ParseSince reads a --since value: a date (2006-01-02, midnight in
// Europe/Berlin) or an RFC 3339 time.
func ParseSince(s string) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, Berlin()); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date like 2026-01-31 or a time like 2026-01-31T12:00:00+01:00", s)
}

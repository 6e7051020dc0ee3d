package fields

import (
	"slices"
	"testing"
)

// TestDerivedLists: the lists the other packages read are the table's
// columns, and a field added to a copy of the table shows up in each.
func TestDerivedLists(t *testing.T) {
	t.Parallel()
	if got, want := ReceiptNames(All), []string{
		"controller", "controller_address", "controller_email", "controller_phone",
		"name", "phone", "email", "decision", "time", "purposes",
		"record_id", "text_version", "text_url", "key", "withdrawal_url", "ref",
	}; !slices.Equal(got, want) {
		t.Errorf("ReceiptNames = %q, want %q (the receipt templates' contract)", got, want)
	}
	if got, want := ReceiptRequired(All), []string{"name", "phone", "decision", "time", "purposes", "record_id"}; !slices.Equal(got, want) {
		t.Errorf("ReceiptRequired = %q, want %q", got, want)
	}
	if got, want := ExportColumns(All), []string{"phone", "name", "email"}; !slices.Equal(got, want) {
		t.Errorf("ExportColumns = %q, want %q (the list's CSV columns)", got, want)
	}
	names := func(ff []Field) (out []string) {
		for _, f := range ff {
			out = append(out, f.Name)
		}
		return out
	}
	if got := names(Inputs(All, Consent)); !slices.Equal(got, []string{Name, Phone, Email}) {
		t.Errorf("consent inputs %q", got)
	}
	if got := names(Inputs(All, Withdrawal)); !slices.Equal(got, []string{Phone, ID}) {
		t.Errorf("withdrawal inputs %q", got)
	}

	table := slices.Clone(All)
	at := slices.IndexFunc(table, func(f Field) bool { return f.Name == Email })
	table = slices.Insert(table, at+1, Field{
		Name: "company", Forms: Consent, MaxRunes: 100, Input: "text", Label: "company_label", Check: CheckText,
		Receipt: "company", Export: "company",
	})
	if got := names(Inputs(table, Consent)); !slices.Equal(got, []string{Name, Phone, Email, "company"}) {
		t.Errorf("with a field more: consent inputs %q", got)
	}
	if got := ReceiptNames(table); got[7] != "company" || len(got) != 17 {
		t.Errorf("with a field more: ReceiptNames %q", got)
	}
	if got := ExportColumns(table); !slices.Equal(got, []string{"phone", "name", "email", "company"}) {
		t.Errorf("with a field more: ExportColumns %q", got)
	}
	if _, ok := Lookup(Consent, "company"); ok {
		t.Error("the copy changed All")
	}
}

// TestTableRows: names are unique, every text input has a label, a check
// and a limit, and only posted fields have inputs.
func TestTableRows(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, f := range All {
		if seen[f.Name] {
			t.Errorf("%q twice", f.Name)
		}
		seen[f.Name] = true
		if f.Input != "" && (f.Label == "" || f.Check == NoCheck || f.MaxRunes == 0 || f.Forms == 0) {
			t.Errorf("input %q lacks a label, check, limit or form: %+v", f.Name, f)
		}
		if f.Forms == 0 && f.Receipt == "" {
			t.Errorf("%q is neither posted nor on a receipt", f.Name)
		}
	}
}

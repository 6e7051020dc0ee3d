package receipt

import (
	"bytes"
	"errors"
	"testing"
)

// TestExtraAttachments: extra files are attached beside the record and
// read back by name; a taken or empty name is refused.
func TestExtraAttachments(t *testing.T) {
	t.Parallel()
	d := sample("en")
	proofFile := []byte("c2sp.org/tlog-proof@v1\nindex 4\n")
	d.Extra = []File{{Name: "inclusion.tlog-proof", Desc: "inclusion proof", Data: proofFile}}
	pdf := stamp(t, d)
	got, err := AttachmentNamed(pdf, "inclusion.tlog-proof")
	if err != nil || !bytes.Equal(got, proofFile) {
		t.Fatalf("AttachmentNamed = %q, %v", got, err)
	}
	rec, err := Attachment(pdf)
	if err != nil || !bytes.Equal(rec, d.Record) {
		t.Fatalf("Attachment = %q, %v", rec, err)
	}
	if _, err := AttachmentNamed(pdf, "other"); !errors.Is(err, ErrNoRecord) {
		t.Errorf("missing attachment: %v, want ErrNoRecord", err)
	}
	if _, err := AttachmentNamed(stamp(t, sample("en")), "inclusion.tlog-proof"); !errors.Is(err, ErrNoRecord) {
		t.Errorf("receipt without proof: %v, want ErrNoRecord", err)
	}
	s := testStamper(t)
	for _, bad := range [][]File{
		{{Name: AttachmentName, Data: proofFile}},
		{{Name: "", Data: proofFile}},
		{{Name: "a", Data: nil}},
		{{Name: "a", Data: proofFile}, {Name: "a", Data: proofFile}},
	} {
		d.Extra = bad
		if _, err := s.Stamp(d); !errors.Is(err, ErrInvalid) {
			t.Errorf("Extra %v: %v, want ErrInvalid", bad, err)
		}
	}
}

package collector

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDecodeInviteField(t *testing.T) {
	t.Parallel()
	req, err := decode(t, "application/x-www-form-urlencoded", "decision=granted&invite=AbC-_1&phone=%2B49")
	if err != nil || req.Invite != "AbC-_1" {
		t.Errorf("form invite = %+v, %v", req, err)
	}
	req, err = decode(t, "application/json", `{"invite":"AbC-_1"}`)
	if err != nil || req.Invite != "AbC-_1" {
		t.Errorf("JSON invite = %+v, %v", req, err)
	}
	if _, err := decode(t, "application/json", `{"invite":1}`); err == nil {
		t.Error("numeric invite accepted")
	}
}

func TestDecodeWithdraw(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("a", 32)
	req, err := DecodeWithdrawForm([]byte("phone=0170+1234567&id=" + id + "&purpose=orders&purpose=documents&lang=de"))
	if err != nil || req.Phone != "0170 1234567" || req.ID != id || !slices.Equal(req.Purposes, []string{"orders", "documents"}) || req.Lang != "de" {
		t.Errorf("form = %+v, %v", req, err)
	}
	req, err = DecodeWithdrawJSON([]byte(`{"id":"` + id + `","k":"mac","invite":"tok","purpose":[]}`))
	if err != nil || req.Key != "mac" || req.Invite != "tok" || len(req.Purposes) != 0 {
		t.Errorf("JSON = %+v, %v", req, err)
	}
	for _, tt := range []struct {
		name, body string
		json       bool
		field      string
	}{
		{"unknown form field", "id=x&decision=granted", false, "decision"},
		{"repeated form field", "id=x&id=y", false, "id"},
		{"bad form", "id=%zz", false, ""},
		{"unknown JSON field", `{"name":"x"}`, true, "name"},
		{"repeated JSON field", `{"id":"x","id":"y"}`, true, "id"},
		{"purpose not an array", `{"purpose":"orders"}`, true, "purpose"},
		{"not an object", `["id"]`, true, ""},
		{"trailing data", `{}{}`, true, ""},
		{"invalid UTF-8", "{\"phone\":\"\xff\"}", true, ""},
	} {
		var err error
		if tt.json {
			_, err = DecodeWithdrawJSON([]byte(tt.body))
		} else {
			_, err = DecodeWithdrawForm([]byte(tt.body))
		}
		var re *RequestError
		if !errors.As(err, &re) || re.Status != 400 || re.Field != tt.field {
			t.Errorf("%s: err = %#v, want 400 naming %q", tt.name, err, tt.field)
		}
	}
}

func FuzzDecodeWithdrawJSON(f *testing.F) {
	f.Add([]byte(`{"phone":"0170 1234567","id":"` + strings.Repeat("a", 32) + `","purpose":["orders"],"lang":"de"}`))
	f.Add([]byte(`{"k":"x","id":"y","invite":"z"}`))
	f.Add([]byte(`{"purpose":[1]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeWithdrawJSON(b)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Status != 400 {
				t.Fatalf("error %v is not a 400 RequestError", err)
			}
			return
		}
		if req == nil {
			t.Fatal("nil request without error")
		}
	})
}

func FuzzDecodeWithdrawForm(f *testing.F) {
	f.Add([]byte("phone=0170+1234567&id=abc&purpose=orders&lang=de"))
	f.Add([]byte("k=x&id=y&invite=z&purpose=a&purpose=b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeWithdrawForm(b)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Status != 400 {
				t.Fatalf("error %v is not a 400 RequestError", err)
			}
			return
		}
		if req == nil {
			t.Fatal("nil request without error")
		}
	})
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPaths(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	withKeys := strings.Replace(good, "[collector]\n", "[collector]\ndata_dir = \"/srv/cc\"\n", 1) +
		"[invite]\nkey = \"/home/o/invite.key\"\npublic_key = \"keys/invite.pub\"\n"
	withArchive := strings.Replace(good, "[site]\n", "[site]\narchive = \"proof\"\n", 1)
	for _, tc := range []struct {
		name, text, data string
		want             Paths
	}{
		{"defaults", good, "", Paths{
			Data: "/site/data", Archive: "/site/archive", Content: "/site/content", Log: "/site/data/decisions.jsonl",
			Receipts: "/site/data/receipts", Texts: "/site/data/texts", Outbox: "/site/data/outbox", Private: "/site/data/private", Snapshot: "/site/data/private/snapshot", Transparency: "/site/data/log", Owners: "/site/data/owners.json",
			SigningKey: "/site/data/signing.key", SigningPublicKey: "/site/data/signing.pub", CheckpointKey: "/site/data/checkpoint.key", CheckpointVerifierKey: "/site/data/checkpoint.vkey",
			InviteKey: "/site/data/invite.key", InvitePublicKey: "/site/data/invite.pub",
		}},
		{"site.archive", withArchive, "", Paths{
			Data: "/site/data", Archive: "/site/proof", Content: "/site/content", Log: "/site/data/decisions.jsonl",
			Receipts: "/site/data/receipts", Texts: "/site/data/texts", Outbox: "/site/data/outbox", Private: "/site/data/private", Snapshot: "/site/data/private/snapshot", Transparency: "/site/data/log", Owners: "/site/data/owners.json",
			SigningKey: "/site/data/signing.key", SigningPublicKey: "/site/data/signing.pub", CheckpointKey: "/site/data/checkpoint.key", CheckpointVerifierKey: "/site/data/checkpoint.vkey",
			InviteKey: "/site/data/invite.key", InvitePublicKey: "/site/data/invite.pub",
		}},
		{"data_dir and invite keys from the config", withKeys, "", Paths{
			Data: "/srv/cc", Archive: "/site/archive", Content: "/site/content", Log: "/srv/cc/decisions.jsonl",
			Receipts: "/srv/cc/receipts", Texts: "/srv/cc/texts", Outbox: "/srv/cc/outbox", Private: "/srv/cc/private", Snapshot: "/srv/cc/private/snapshot", Transparency: "/srv/cc/log", Owners: "/srv/cc/owners.json",
			SigningKey: "/srv/cc/signing.key", SigningPublicKey: "/srv/cc/signing.pub", CheckpointKey: "/srv/cc/checkpoint.key", CheckpointVerifierKey: "/srv/cc/checkpoint.vkey",
			InviteKey: "/home/o/invite.key", InvitePublicKey: "/site/keys/invite.pub", InvitePublicKeySet: true,
		}},
		{"--data wins, relative to the working directory", withKeys, "copy/", Paths{
			Data: filepath.Join(wd, "copy"), Archive: "/site/archive", Content: "/site/content", Log: filepath.Join(wd, "copy", "decisions.jsonl"),
			Receipts: filepath.Join(wd, "copy", "receipts"), Texts: filepath.Join(wd, "copy", "texts"),
			Outbox: filepath.Join(wd, "copy", "outbox"), Private: filepath.Join(wd, "copy", "private"), Snapshot: filepath.Join(wd, "copy", "private", "snapshot"), Transparency: filepath.Join(wd, "copy", "log"), Owners: filepath.Join(wd, "copy", "owners.json"),
			SigningKey: filepath.Join(wd, "copy", "signing.key"), SigningPublicKey: filepath.Join(wd, "copy", "signing.pub"),
			CheckpointKey: filepath.Join(wd, "copy", "checkpoint.key"), CheckpointVerifierKey: filepath.Join(wd, "copy", "checkpoint.vkey"),
			InviteKey: "/home/o/invite.key", InvitePublicKey: "/site/keys/invite.pub", InvitePublicKeySet: true,
		}},
	} {
		c, err := Parse("c.toml", "/site", []byte(tc.text))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := c.Paths(tc.data); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	// A Config not made by Parse (keygen --data without a config file).
	if got := (&Config{}).Paths("/d"); got.SigningKey != "/d/signing.key" || got.InvitePublicKey != "/d/invite.pub" {
		t.Errorf("zero config: %+v", got)
	}
	c, _ := Parse("c.toml", "/site", []byte(good))
	if got := c.Paths("").TextDirs(); len(got) != 2 || got[0] != "/site/archive" || got[1] != "/site/data/texts" {
		t.Errorf("TextDirs = %v, want the archive, then DATA/texts", got)
	}
}

package config

import "path/filepath"

// Defaults of the folders config.toml names, relative to the folder that
// holds config.toml.
const (
	// DefaultDataDir is collector.data_dir's default.
	DefaultDataDir = "data"
	// DefaultArchiveDir is site.archive's default.
	DefaultArchiveDir = "archive"
)

// Names inside the data folder (collector.data_dir or --data); [Paths]
// joins them. They are the data folder's on-disk layout: keep them.
const (
	LogFile                   = "decisions.jsonl" // the signed JSONL log (collector/ledger)
	SigningKeyFile            = "signing.key"     // Ed25519, PKCS #8 PEM, mode 0600
	SigningPublicKeyFile      = "signing.pub"     // PKIX PEM
	InviteKeyFile             = "invite.key"      // default of invite.key
	InvitePublicKeyFile       = "invite.pub"      // default of invite.public_key
	ReceiptsDir               = "receipts"        // ID.pdf, the owner's copy of each receipt
	TextsDir                  = "texts"           // VERSION.html, the collector's copy of each accepted text
	OutboxDir                 = "outbox"          // mails waiting (collector/outbox)
	PrivateDir                = "private"         // the private store of the subjects' data
	SnapshotFile              = "snapshot"        // in PrivateDir: the collector's signed start-up state (collector/snapshot)
	TransparencyDir           = "log"             // the transparency log's tiles and checkpoints (collector/translog)
	CheckpointKeyFile         = "checkpoint.key"  // the transparency log's checkpoint signing key (signed-note format), mode 0600
	CheckpointVerifierKeyFile = "checkpoint.vkey" // its verifier key (signed-note format)
	OwnersFile                = "owners.json"     // the console's owners and their passkeys (collector/console)
)

// Paths are the absolute files and folders one run of chatconsent reads
// and writes, resolved once from the config and the --data flag. Every
// command, the collector and doctor take them from here, so that a path
// has one meaning everywhere.
type Paths struct {
	// Data is the data folder: --data if given (relative to the working
	// directory), else collector.data_dir.
	Data string
	// Archive is the text archive, site.archive (default CONFIGDIR/archive).
	Archive string
	// Content is the site's content folder, CONFIGDIR/content (LANG/*.md).
	Content string
	// Log is DATA/decisions.jsonl.
	Log string
	// Receipts and Texts are the collector's receipts and text copies
	// (DATA/receipts, DATA/texts); Outbox its mail queue (DATA/outbox).
	Receipts, Texts, Outbox string
	// Private is DATA/private, the private store.
	Private string
	// Snapshot is DATA/private/snapshot, the collector's signed start-up
	// state (collector/snapshot; it holds personal data, so it lives in
	// private/ and an erasure removes it).
	Snapshot string
	// Transparency is DATA/log, the transparency log (tiles, checkpoint).
	Transparency string
	// Owners is DATA/owners.json, the owner console's owners, their
	// passkeys and pending enrolments (collector/console).
	Owners string
	// SigningKey and SigningPublicKey are the log's key pair
	// (DATA/signing.key, DATA/signing.pub).
	SigningKey, SigningPublicKey string
	// CheckpointKey and CheckpointVerifierKey are the transparency log's
	// checkpoint key pair (DATA/checkpoint.key, DATA/checkpoint.vkey).
	CheckpointKey, CheckpointVerifierKey string
	// InviteKey is invite.key, else DATA/invite.key; InvitePublicKey is
	// invite.public_key, else DATA/invite.pub.
	InviteKey, InvitePublicKey string
	// InvitePublicKeySet reports that invite.public_key names the file, so
	// it must exist; the default DATA/invite.pub is optional (no file:
	// personal invite links are off).
	InvitePublicKeySet bool
}

// Paths resolves every path for a run whose --data flag is data ("" for
// collector.data_dir).
func (c *Config) Paths(data string) Paths {
	switch {
	case data == "" && c.Collector.DataDir == "": // a Config not made by Parse
		data = filepath.Join(c.Dir, DefaultDataDir)
	case data == "":
		data = c.Collector.DataDir
	default:
		if abs, err := filepath.Abs(data); err == nil {
			data = abs
		}
	}
	data = filepath.Clean(data)
	p := Paths{
		Data:                  data,
		Archive:               c.Site.Archive,
		Content:               filepath.Join(c.Dir, "content"),
		Log:                   filepath.Join(data, LogFile),
		Receipts:              filepath.Join(data, ReceiptsDir),
		Texts:                 filepath.Join(data, TextsDir),
		Outbox:                filepath.Join(data, OutboxDir),
		Private:               filepath.Join(data, PrivateDir),
		Snapshot:              filepath.Join(data, PrivateDir, SnapshotFile),
		Transparency:          filepath.Join(data, TransparencyDir),
		Owners:                filepath.Join(data, OwnersFile),
		SigningKey:            filepath.Join(data, SigningKeyFile),
		SigningPublicKey:      filepath.Join(data, SigningPublicKeyFile),
		CheckpointKey:         filepath.Join(data, CheckpointKeyFile),
		CheckpointVerifierKey: filepath.Join(data, CheckpointVerifierKeyFile),
		InviteKey:             c.Invite.Key,
		InvitePublicKey:       c.Invite.PublicKey,
	}
	if p.Archive == "" { // a Config not made by Parse
		p.Archive = filepath.Join(c.Dir, DefaultArchiveDir)
	}
	if p.InviteKey == "" {
		p.InviteKey = filepath.Join(data, InviteKeyFile)
	}
	p.InvitePublicKeySet = p.InvitePublicKey != ""
	if !p.InvitePublicKeySet {
		p.InvitePublicKey = filepath.Join(data, InvitePublicKeyFile)
	}
	return p
}

// TextDirs are the folders that hold archived texts, in the order every
// command looks a version up: the site's archive (kept in version control,
// where a build put it), then the collector's copy in DATA/texts.
func (p Paths) TextDirs() []string { return []string{p.Archive, p.Texts} }

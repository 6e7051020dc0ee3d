// Package ledger is chatconsent's signed, hash-chained, append-only log of
// consent events: the controller's proof that consent was given
// (GDPR Art. 7(1)) and, later, withdrawn (Art. 7(3)).
//
// # File format (version 1)
//
// The log is a UTF-8 text file, one event per line, each line ending in "\n"
// (JSON Lines). A line is exactly
//
//	{"rec":REC,"sig":"SIG"}
//
// with no other whitespace, where REC is a JSON object (a [Record]) and SIG is
// the standard base64 encoding (RFC 4648 §4, padded) of the Ed25519 signature
// (RFC 8032) over the exact bytes of REC as stored. A verifier therefore never
// re-serialises: it cuts REC out of the line and checks the signature on those
// bytes. REC holds, besides the event itself:
//
//   - "v": the format version, 1;
//   - "seq": the line number, starting at 1, without gaps;
//   - "prev": the lower-case hex SHA-256 of the previous line's bytes
//     (without its "\n"), or "" on the first line;
//   - "key": the [Fingerprint] of the signing key.
//
// Changing any byte breaks a signature; dropping, inserting or reordering
// lines breaks "seq" or "prev". Dropping lines from the end cannot be seen
// from the file alone; keep copies (receipts carry their line, see the
// receipt package) to detect that: [VerifyLines] and [Lines.Witness]
// check such copies against the log.
//
// # Events
//
// [Record.Type] says what happened: [TypeDecision] (a decision on the
// consent form), [TypeInvite] (a personal invite link was first opened)
// and [TypeWithdrawal] (consent withdrawn, referring to the decision in
// Ref). The fields Invite, Ref, Via, Token, Expires, By and Note were
// added to version 1 later; they are omitted when empty, so lines written before
// them are unchanged and still verify.
// Version 2 adds [TypeErasure] (the openings of records destroyed, GDPR
// Art. 17; By names the owner who asked, if one did) and [TypeOwner] (an
// owner of the console added, enrolled or removed: Action, Owner, By; see
// testdata/v2-owner.jsonl). Action and Owner occur on owner records only.
//
// # Keys
//
// The signing key is an Ed25519 key stored as PKCS #8 PEM ("signing.key",
// mode 0600) beside its public key as PKIX PEM ("signing.pub"). See
// [LoadOrCreateKey] and [ReadPublicKey].
//
// # Signing and storage
//
// The record envelope, signing and verification are independent of where
// lines are kept. A [Signer] (and its [Verifier]) has the shape of
// golang.org/x/mod/sumdb/note's; [NewSigner] wraps the Ed25519 key. A
// [Store] keeps lines durably (append a batch, read from a position,
// head, close); readers take a [Source]. [FileStore] is the JSON Lines
// file above (flock against a second writer, one write and one fdatasync
// per batch, a torn tail moved aside on open); [FileSource] reads a file
// or a copy without locking it. A transparency log's storage fits behind
// the same interface: a line is an entry, [Head].Count its size.
//
// # Writing
//
// [New] (or [Open] for the file) verifies the store and takes the single
// writer's position at its end; [Log.Append] adds records and returns only
// after the store made them durable (fsync), so an acknowledged event
// survives a crash.
package ledger

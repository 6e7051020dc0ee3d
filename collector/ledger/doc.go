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
// # Migration and redaction (version-1 logs)
//
// A version-1 line holds name, number and e-mail in clear, and its
// signature and the next line's "prev" cover exactly those bytes, so it
// can be neither rewritten nor shortened without breaking the proof. Two
// ways were open: keep the version-1 file read-only beside a new version-2
// log, or re-record its lines as version 2 with a signed link to them. The
// first cannot erase anyone recorded in version 1 (the clear text stays);
// so [Migrate] re-records, and does it in the same file, which keeps every
// reader, position and receipt valid and handles a file in which the
// collector already appended version-2 lines after the version-1 ones:
//
//   - after the history (all lines so far), a signed version-2
//     [TypeMigration] record with "history" (the number of history lines,
//     Seq-1) and "migrated" (the [LineHash] of the last one, equal to its
//     "prev"): the signed tie to the history;
//   - then one re-record per history line, in order: the same record (type,
//     id, time, decision, purposes, texts, references) as version 2, its
//     personal fields replaced by commitments under fresh salts (their
//     openings go to the private store, as for any version-2 record), and
//     "migrated" the LineHash of the line it re-records. History line j is
//     re-recorded by line History+1+j.
//
// The migration is an explicit step (chatconsent migrate, with the
// collector stopped), not part of a start: it replaces the log file once,
// and the owner should take it knowingly, after a backup. The collector
// refuses an unmigrated version-1 log and names the command, so the step
// cannot be forgotten either.
//
// Readers fold the log from the migration record on (the records package
// starts afresh there); the history stays verifiable as it was. A log
// holds at most one migration record, and a re-record outside the
// re-recorded range is an error.
//
// Erasure then needs the history's clear text gone: [Redact] replaces an
// erased person's version-1 lines by redacted lines,
//
//	{"redacted":"HASH","seq":SEQ,"pad":"   …"}
//
// where HASH is the LineHash of the line replaced (see [RedactLine] and
// [ParseRedacted]), padded with spaces to the original length, so no byte
// position in the file moves. A redacted line's signature can no longer be
// checked; its hash is attested twice by signed lines: the next line's
// "prev" and its re-record's "migrated" (the second also covers a run of
// redacted lines). [Verify] checks both and says how many lines were
// redacted ([VerifyRedacted], [Lines].Redacted); a person's receipt, which
// carries their original line, still matches its hash ([Lines.Witness]).
// Only history lines of a migrated log are redacted, and never the last
// line. The file is replaced durably ([FileStore.Replace]: temp file,
// fsync, rename, fsync of the folder), so a crash leaves the old file or
// the new one.
//
// # Keys
//
// The signing key is an Ed25519 key stored as PKCS #8 PEM (mode 0600)
// beside its public key as PKIX PEM. See [LoadOrCreateKey] and
// [ReadPublicKey]. The files' names ("signing.key", "signing.pub") and the
// log's ("decisions.jsonl") are the data folder's layout, which
// internal/config's Paths owns: this package takes paths from its caller.
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

// Package translog is chatconsent's transparency log: a Merkle tree over
// the exact bytes of the v2 JSONL log's lines, kept by Tessera
// (github.com/transparency-dev/tessera, POSIX driver) in the data folder's
// "log" folder and published in the C2SP formats: tlog-tiles for the tree
// and the entries, tlog-checkpoint in a signed note (signed-note, Ed25519)
// for checkpoints, tlog-witness cosignatures, tlog-proof for a receipt's
// offline inclusion proof. It imports nothing of chatconsent's: an entry is
// opaque bytes, its index is the caller's business (the collector feeds line
// seq as index seq−1).
//
// # Files
//
// In the log folder: "checkpoint" (the latest signed, cosigned checkpoint),
// "tile/<L>/<N>[.p/<W>]" (hash tiles), "tile/entries/<N>[.p/<W>]" (entry
// bundles: uint16-length-prefixed entries), "timestamp/<N>.checkpoint" and
// "timestamp/<N>.tsr" (a checkpoint of size N and the RFC 3161 token over
// it, if time-stamping is configured; see [TimestampDir]) and
// "timestamp/latest" — exactly what [Handler] serves
// and [Mirror] copies — and Tessera's private ".state" folder (tree size and
// root, locks), never served. The checkpoint key pair (see [GenerateKey]) lives
// beside the ledger's signing key; its files' names ("checkpoint.key",
// "checkpoint.vkey") are the data folder's layout, which internal/config's
// Paths owns: this package takes paths from its caller.
//
// # Durability, read from Tessera v1.0.4's source
//
// tessera.Appender.Add only puts the entry in an in-memory queue
// (storage/internal/queue.go). Its future resolves after the batch's
// flush, posix.appender.sequenceBatch, returned: that writes the entry
// bundles, then the tiles, then ".state/treeState" (the tree size), each
// with the same dance (storage/posix/file_ops.go): a temporary file opened
// with O_SYNC, written, closed, renamed over the target, and the
// directory fsynced (mkdirAll fsyncs new parents too). So when the future
// resolves the entry is durable in the tree — but not yet in a checkpoint:
// a separate goroutine publishes "checkpoint" at most every
// CheckpointInterval (after the witnesses answered), and only then can a
// client see or prove the entry. Between Add and the flush (BatchMaxAge, up
// to BatchMaxSize entries) the entry exists only in memory: a crash loses
// it, and a failed flush fails the whole batch while later batches go on.
//
// What that means for us: the transparency log is never the acknowledged
// store. The JSONL file stays it (fsynced before the answer, group commit,
// unchanged); the collector feeds the log after the append ([Log.Feed]
// returns at once) and, on start, re-feeds what the JSONL file has and the
// log lacks ([Log.CatchUp]), in order, so no acknowledged decision is
// missing from the log for longer than one restart, and the entry index is
// always seq−1. Entries fed and not yet handed to Tessera wait in memory up
// to Options.MaxPendingBytes (8 MiB) and beyond it in a file without a
// name, read back in order: a Tessera slower than the decisions (a slow
// disk, the AWS driver at full load) costs disk, not memory. Feeding is
// serial ([Log] waits for one batch before handing Tessera the next), so a
// failed flush cannot let a later batch take its indices: a failed batch
// leaves the tree size unchanged (treeState is written last) and is
// retried. Entries could still land at other indices
// if two of Tessera's flushes reached its sequencer out of order: its queue
// hands a batch to its worker after releasing its lock, so a flush by size
// right after one by its age timer can overtake it (seen once under CI load,
// 766 entries swapped). The feeder's batches are therefore one smaller than
// Tessera's queue (Options.BatchMaxSize; the queue gets one more), so only
// the timer flushes them, at least BatchMaxAge apart. The feeder checks
// every index all the same and stops with [ErrMisplaced] (verify names the
// entry, whose seq then differs from index+1).
//
// # The AWS driver
//
// With [Options.AWS] the same tree is kept by Tessera's storage/aws in a
// MySQL-compatible database and an S3-compatible bucket ([AWSOptions]),
// objects named as in the folder (under a prefix). There the future of
// Add resolves once the batch's indices are committed in the database (one
// transaction locking the SeqCoord row: durable, not yet in the tree); a
// separate job integrates sequenced batches into the bucket under the
// IntCoord row lock, and checkpoints are published at most once a second
// ([AWSMinCheckpointInterval]). The feeder's rules are unchanged: a failed
// batch's transaction assigns nothing, and every index is checked. The
// bucket is read by [Log.Source] (its own S3 reader, which falls back from
// a removed partial tile to the full one) and served by [SourceHandler].
// The driver lets several processes append to one log; chatconsent does
// not, since a log mirrors one JSONL file: one collector per database and
// prefix.
//
// # Verifying
//
// [VerifyLog] checks a log from its files alone (a folder, a mirror, a
// URL): the checkpoint's signature and the witnesses' quorum, every entry
// (through a callback, e.g. its own signature), every tile byte for byte
// against the tiles recomputed from the entries, the root, and that the
// log extends every older checkpoint given (a cut or rewritten history, or
// a fork signed with the same key, fails naming both sizes). [VerifyProof]
// checks a receipt's tlog-proof offline.
//
// # Trusted time
//
// With [Options].Timestamp the log asks an RFC 3161 time-stamp authority
// (RFC 3161 §3.4, HTTP) for a token over each new published checkpoint,
// checks it ([VerifyTimestamp]) and keeps it ([TimestampPaths]);
// [Log.Timestamp] gives a receipt the token of its proof's checkpoint, and
// [VerifyLog] with TimestampRoots checks the newest one offline. Tokens are
// parsed with github.com/digitorus/timestamp and github.com/digitorus/pkcs7.
package translog

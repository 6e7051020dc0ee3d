// Package proof is the room between a signed log record and its PDF
// receipt: it turns a record into what the receipt shows ([ReceiptData],
// [WithdrawalReceiptData], [Data]), builds the receipt stamper that a
// site's config.toml asks for ([NewStamper]: the built-in template, the
// owner's letterhead, its form fields or its [[receipt.fields]]
// placements), and verifies a receipt offline ([VerifyReceipt]: the
// attached record's Ed25519 signature, the printed text against the
// record, and optionally the record's place in the log).
//
// The collector (stamping), the CLI (verify) and doctor (the template
// check) call it alike, so none of them needs the HTTP package. It imports
// no feature package: collector/ledger (records), collector/receipt (PDF),
// collector/translog (a receipt's inclusion proof), internal/config and
// themes (the receipt labels of the site's languages).
package proof

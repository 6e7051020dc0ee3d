package receipt

// labelKeys maps each label to its key in the theme's i18n files
// (themes/default/i18n/LANG.toml): the labels of layout 2 and later are
// read from there, so a site adds a language with i18n/LANG.toml. Keys
// starting "receipt_withdrawal_" replace the plain ones on a withdrawal
// receipt.
var labelKeys = []struct {
	key string
	get func(*labels) *string
}{
	{"receipt_title", func(l *labels) *string { return &l.title }},
	{"receipt_intro", func(l *labels) *string { return &l.intro }},
	{"receipt_subject_line", func(l *labels) *string { return &l.subjectLine }},
	{"receipt_controller", func(l *labels) *string { return &l.controller }},
	{"receipt_subject", func(l *labels) *string { return &l.subject }},
	{"receipt_decision", func(l *labels) *string { return &l.decision }},
	{"receipt_purposes", func(l *labels) *string { return &l.purposes }},
	{"receipt_evidence", func(l *labels) *string { return &l.evidence }},
	{"receipt_withdrawal", func(l *labels) *string { return &l.withdrawal }},
	{"receipt_name", func(l *labels) *string { return &l.name }},
	{"receipt_phone", func(l *labels) *string { return &l.phone }},
	{"receipt_email", func(l *labels) *string { return &l.email }},
	{"receipt_post", func(l *labels) *string { return &l.post }},
	{"receipt_online", func(l *labels) *string { return &l.online }},
	{"receipt_granted", func(l *labels) *string { return &l.granted }},
	{"receipt_refused", func(l *labels) *string { return &l.refused }},
	{"receipt_purpose_granted", func(l *labels) *string { return &l.purposeGranted }},
	{"receipt_purpose_refused", func(l *labels) *string { return &l.purposeRefused }},
	{"receipt_no_purposes", func(l *labels) *string { return &l.noPurposes }},
	{"receipt_time", func(l *labels) *string { return &l.time }},
	{"receipt_time_layout", func(l *labels) *string { return &l.timeLayout }},
	{"receipt_record_id", func(l *labels) *string { return &l.recordID }},
	{"receipt_text_version", func(l *labels) *string { return &l.textVersion }},
	{"receipt_text_url", func(l *labels) *string { return &l.textURL }},
	{"receipt_key", func(l *labels) *string { return &l.keyFP }},
	{"receipt_attached", func(l *labels) *string { return &l.attached }},
	{"receipt_withdrawal_text", func(l *labels) *string { return &l.withdrawalText }},
	{"receipt_withdrawn", func(l *labels) *string { return &l.withdrawn }},
	{"receipt_purpose_withdrawn", func(l *labels) *string { return &l.purposeWithdrawn }},
	{"receipt_ref", func(l *labels) *string { return &l.ref }},
	// Layout 3.
	{"receipt_reference", func(l *labels) *string { return &l.reference }},
	{"receipt_via_invite", func(l *labels) *string { return &l.viaInvite }},
	{"receipt_purpose_still_granted", func(l *labels) *string { return &l.purposeStill }},
	{"receipt_none_still_granted", func(l *labels) *string { return &l.noneStill }},
	{"receipt_qr", func(l *labels) *string { return &l.qr }},
}

// withdrawalOnly are the labels only a withdrawal receipt prints (key
// receipt_*, no withdrawal_ variant).
var withdrawalOnly = map[string]bool{"receipt_withdrawn": true, "receipt_purpose_withdrawn": true, "receipt_ref": true}

// withdrawalKeys are the labels that differ on a withdrawal receipt.
var withdrawalKeys = map[string]bool{
	"receipt_title": true, "receipt_intro": true, "receipt_subject_line": true, "receipt_withdrawal_text": true,
	"receipt_withdrawn": true, "receipt_purpose_withdrawn": true, "receipt_ref": true,
}

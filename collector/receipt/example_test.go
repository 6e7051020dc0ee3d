package receipt_test

import (
	"bytes"
	"fmt"
	"log"
	"time"

	"github.com/chatconsent/chatconsent/collector/receipt"
)

func exampleData() receipt.Data {
	return receipt.Data{
		Lang:       "en",
		Controller: receipt.Controller{Name: "Praxis Dr. Weiß", Address: "Hauptstraße 1, 10115 Berlin", Email: "privacy@praxis.example"},
		RecordID:   "rec-42",
		Time:       time.Date(2026, 11, 29, 22, 15, 4, 0, time.UTC),
		Decision:   "granted",
		Name:       "Łukasz Wróbel",
		Phone:      "+48601234567",
		Purposes: []receipt.Purpose{
			{ID: "reminders", Title: "Appointment reminders", Granted: true},
			{ID: "news", Title: "Newsletter", Granted: false},
		},
		TextVersion:    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		KeyFingerprint: "SHA256:x7Qk2c1mZ5pYVb0Rj8sWnE4uT6aL9dF3gH1iK2oP0qM",
		WithdrawalURL:  "https://praxis.example/withdraw",
		Record:         []byte(`{"id":"rec-42","decision":"granted"}`),
	}
}

func ExampleLines() {
	lines, err := receipt.Lines(exampleData())
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// Consent receipt
	// Proof of your decision under GDPR Art. 7(1). Please keep this document.
	// Controller
	// Praxis Dr. Weiß
	// Hauptstraße 1, 10115 Berlin
	// Email: privacy@praxis.example
	// Data subject
	// Name: Łukasz Wróbel
	// Phone: +48601234567
	// Decision
	// Consent granted
	// Time: 29 Nov 2026, 23:15:04 (UTC+01:00)
	// Purposes
	// ■ granted: Appointment reminders
	// □ not granted: Newsletter
	// Evidence
	// Reference number: rec-42
	// Text version (SHA-256): 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
	// Signing key: SHA256:x7Qk2c1mZ5pYVb0Rj8sWnE4uT6aL9dF3gH1iK2oP0qM
	// The signed record is attached to this PDF as “record.json”.
	// Withdrawal
	// You can withdraw consent at any time, with effect for the future (GDPR Art. 7(3)):
	// Online: praxis.example/withdraw
	// Email: privacy@praxis.example
	// Post: Praxis Dr. Weiß, Hauptstraße 1, 10115 Berlin
	// QR code: withdrawal link
	// Praxis Dr. Weiß · Hauptstraße 1, 10115 Berlin
}

func ExampleStamper_Stamp() {
	s, err := receipt.New(nil) // the embedded default template
	if err != nil {
		log.Fatal(err)
	}
	d := exampleData()
	pdf, err := s.Stamp(d)
	if err != nil {
		log.Fatal(err)
	}
	again, _ := s.Stamp(d)
	record, err := receipt.Attachment(pdf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(pdf[:8]))
	fmt.Println("reproducible:", bytes.Equal(pdf, again))
	fmt.Println("record:", string(record))
	// Output:
	// %PDF-1.7
	// reproducible: true
	// record: {"id":"rec-42","decision":"granted"}
}

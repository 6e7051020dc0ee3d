package invite_test

import (
	"fmt"

	"github.com/chatconsent/chatconsent/collector/invite"
)

func ExampleMessage() {
	tpl := "Hallo {name}, hier können Sie entscheiden, wofür {controller} Ihnen per WhatsApp schreiben darf: {link}"
	fmt.Println(invite.Message(tpl, "", "https://c.example/v1/consent?invite=T", "Fahrradladen"))
	// Output: Hallo, hier können Sie entscheiden, wofür Fahrradladen Ihnen per WhatsApp schreiben darf: https://c.example/v1/consent?invite=T
}

func ExampleWhatsAppURL() {
	fmt.Println(invite.WhatsAppURL("+491701234567", "Bitte hier: https://c.example/v1/consent?invite=T"))
	// Output: https://wa.me/491701234567?text=Bitte%20hier%3A%20https%3A%2F%2Fc.example%2Fv1%2Fconsent%3Finvite%3DT
}

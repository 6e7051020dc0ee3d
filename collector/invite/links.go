package invite

import (
	"net/url"
	"strings"
)

// Param is the query parameter that carries a token in a link, and the form
// field that posts it.
const Param = "invite"

// ConsentURL returns the personal consent link: the collector's consent
// page, rendered with the number pre-filled. publicURL is the collector's
// public URL ending in "/".
func ConsentURL(publicURL, token string) string {
	return publicURL + "v1/consent?" + Param + "=" + token
}

// WhatsAppURL returns a click-to-chat link (https://wa.me/NUMBER?text=…)
// that opens a chat with phone (E.164) with text typed in, ready to send.
// The text is percent-encoded with %20 for spaces: WhatsApp shows a "+"
// literally.
func WhatsAppURL(phone, text string) string {
	return "https://wa.me/" + strings.TrimPrefix(phone, "+") + "?text=" + strings.ReplaceAll(url.QueryEscape(text), "+", "%20")
}

// Message fills a message template: {link} becomes link, {name} the name
// and {controller} the controller's name. Without a name, " {name}" (with
// its leading space) is dropped, so "Hallo {name}," reads "Hallo,".
func Message(template, name, link, controller string) string {
	if name == "" {
		template = strings.ReplaceAll(template, " {name}", "")
	}
	return strings.NewReplacer("{link}", link, "{name}", name, "{controller}", controller).Replace(template)
}

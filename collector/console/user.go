package console

import (
	"encoding/hex"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/chatconsent/chatconsent/collector/owners"
)

// webauthnUser adapts an [owners.Owner] to webauthn.User.
type webauthnUser struct{ o *owners.Owner }

func (u webauthnUser) WebAuthnID() []byte {
	b, _ := hex.DecodeString(u.o.ID)
	return b
}
func (u webauthnUser) WebAuthnName() string                       { return u.o.Name }
func (u webauthnUser) WebAuthnDisplayName() string                { return u.o.Name }
func (u webauthnUser) WebAuthnCredentials() []webauthn.Credential { return u.o.Credentials }

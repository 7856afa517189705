// Package all lists the messenger, telephony and email connectors of this build.
package all

import (
	"net/http"
	"time"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/cti"
	"github.com/linedesk/linedesk/connectors/email"
	"github.com/linedesk/linedesk/connectors/meta"
	"github.com/linedesk/linedesk/connectors/ok"
	"github.com/linedesk/linedesk/connectors/telegram"
	"github.com/linedesk/linedesk/connectors/viber"
	"github.com/linedesk/linedesk/connectors/vk"
	"github.com/linedesk/linedesk/connectors/whatsapp"
)

// Connectors returns every messenger connector, calling the platforms with h (a client with a
// 20 s timeout when nil).
func Connectors(h *http.Client) connectors.Registry {
	if h == nil {
		h = &http.Client{Timeout: 20 * time.Second}
	}
	return connectors.NewRegistry(&telegram.Connector{HTTP: h}, &viber.Connector{HTTP: h}, &vk.Connector{HTTP: h},
		&meta.Connector{HTTP: h}, &meta.Connector{Instagram: true, HTTP: h}, &whatsapp.Connector{HTTP: h}, &ok.Connector{HTTP: h}, &cti.Connector{HTTP: h}, &email.Connector{})
}

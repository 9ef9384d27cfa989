package smtptest

import (
	"fmt"
	"net/smtp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMailboxKeepsWhatItReceives(t *testing.T) {
	box := Start(t)
	msg := "From: a@example.de\r\nTo: b@example.de\r\nSubject: Grüße\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\nHallo =C3=84nne=\r\n!\r\n"
	require.NoError(t, smtp.SendMail(fmt.Sprintf("127.0.0.1:%d", box.Port), nil, "a@example.de", []string{"b@example.de"}, []byte(msg)))
	got := box.Received()
	require.Len(t, got, 1)
	h, body := Read(t, got[0])
	require.Equal(t, "b@example.de", h.Get("To"))
	require.Equal(t, "Hallo Änne!\r\n", body)
}

package serve

import (
	"bufio"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// ParseAuthorizedKey checks one public key given as in authorized_keys or a
// .pub file ("ssh-ed25519 AAAA… jana@laptop") and returns it in the form a
// user's keys are stored in (type, key, comment; no options) together with
// its SHA256 fingerprint, as `ssh-keygen -l` prints it.
//
// Refused: key options (from=, command=…: the server would not enforce
// them), certificates, DSA keys and RSA keys under 2048 bits.
func ParseAuthorizedKey(line string) (stored, fingerprint string, err error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return "", "", errors.New("the key is empty; give the contents of a public key file such as ~/.ssh/id_ed25519.pub")
	}
	if strings.Contains(line, "PRIVATE KEY") {
		return "", "", errors.New("this is a private key; give the public key (the .pub file) and keep the private one secret")
	}
	pub, comment, options, rest, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return "", "", fmt.Errorf("not an SSH public key (%v); expected a line like \"ssh-ed25519 AAAA… name@host\"", err)
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return "", "", errors.New("more than one key given; add them one at a time, or use --key-file")
	}
	if len(options) > 0 {
		return "", "", fmt.Errorf("key options (%s) are not supported; give the bare key", strings.Join(options, ","))
	}
	if err := acceptableKey(pub); err != nil {
		return "", "", err
	}
	stored = strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pub)))
	if comment = strings.TrimSpace(comment); comment != "" {
		stored += " " + comment
	}
	return stored, gossh.FingerprintSHA256(pub), nil
}

// ParseAuthorizedKeys reads keys one per line, as in an authorized_keys
// file; blank lines and # comments are skipped. A bad key is named by line.
func ParseAuthorizedKeys(text string) ([]string, error) {
	var keys []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, err := ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("no public key found (one key per line, as in authorized_keys)")
	}
	return keys, nil
}

// Fingerprint returns the SHA256 fingerprint of a stored key.
func Fingerprint(stored string) (string, error) {
	pub, _, _, _, err := gossh.ParseAuthorizedKey([]byte(stored))
	if err != nil {
		return "", fmt.Errorf("stored key is unreadable: %w", err)
	}
	return gossh.FingerprintSHA256(pub), nil
}

// SameKey reports whether two keys given in authorized_keys form are the
// same key, whatever their comments.
func SameKey(a, b string) bool {
	ka, _, _, _, err := gossh.ParseAuthorizedKey([]byte(a))
	if err != nil {
		return false
	}
	return storedIs(b, ka)
}

// storedIs reports whether the stored key is k.
func storedIs(stored string, k gossh.PublicKey) bool {
	pub, _, _, _, err := gossh.ParseAuthorizedKey([]byte(stored))
	if err != nil {
		return false
	}
	return keysEqual(pub, k)
}

func acceptableKey(pub gossh.PublicKey) error {
	switch pub.Type() {
	case gossh.KeyAlgoED25519, gossh.KeyAlgoECDSA256, gossh.KeyAlgoECDSA384, gossh.KeyAlgoECDSA521,
		gossh.KeyAlgoSKED25519, gossh.KeyAlgoSKECDSA256:
		return nil
	case gossh.KeyAlgoRSA:
		if cp, ok := pub.(gossh.CryptoPublicKey); ok {
			if rk, ok := cp.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < 2048 {
				return fmt.Errorf("RSA key of %d bits is too weak; use ed25519 (ssh-keygen -t ed25519) or RSA of 2048 bits or more", rk.N.BitLen())
			}
		}
		return nil
	case gossh.KeyAlgoDSA:
		return errors.New("DSA keys are too weak and OpenSSH no longer accepts them; make an ed25519 key with ssh-keygen -t ed25519")
	}
	if strings.Contains(pub.Type(), "cert") {
		return errors.New("SSH certificates are not supported; give the plain public key")
	}
	return fmt.Errorf("key type %s is not supported; use ed25519 (ssh-keygen -t ed25519)", pub.Type())
}

// keysEqual compares in constant time, so the comparison does not tell an
// observer how much of a key matched.
func keysEqual(a, b gossh.PublicKey) bool {
	am, bm := a.Marshal(), b.Marshal()
	return len(am) == len(bm) && subtle.ConstantTimeCompare(am, bm) == 1
}

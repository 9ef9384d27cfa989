package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"karton/model"
	"karton/store"
	"karton/tui/serve"
)

func userAddCmd(fs *flag.FlagSet) runFunc {
	roleName := fs.String("role", "", "role: admin, manager, operator, analyst or viewer")
	var kf keyFlags
	kf.declare(fs, "key")
	return func(e *env, args []string) error { return runUserAdd(e, args, *roleName, &kf) }
}

// keyFlags collects SSH public keys given as --key (repeatable) and
// --key-file.
type keyFlags struct {
	keys []string
	file string
}

func (kf *keyFlags) declare(fs *flag.FlagSet, name string) {
	fs.Func(name, `an SSH public key, as in a .pub file: "ssh-ed25519 AAAA… name@host" (repeatable)`, func(s string) error {
		k, _, err := serve.ParseAuthorizedKey(s)
		if err != nil {
			return err
		}
		kf.keys = append(kf.keys, k)
		return nil
	})
	fs.StringVar(&kf.file, "key-file", "", "a file of SSH public keys, one per line (a .pub file or an authorized_keys file)")
}

// read returns the keys given, the file's after the flags'.
func (kf *keyFlags) read() ([]string, error) {
	keys := append([]string(nil), kf.keys...)
	if kf.file == "" {
		return keys, nil
	}
	b, err := os.ReadFile(kf.file)
	if err != nil {
		return nil, fmt.Errorf("--key-file: %w", err)
	}
	more, err := serve.ParseAuthorizedKeys(string(b))
	if err != nil {
		return nil, fmt.Errorf("--key-file %s: %w", kf.file, err)
	}
	return append(keys, more...), nil
}

// checkKeysFree refuses keys that another user holds already: a key is
// how the SSH server tells users apart, so it may belong to one user only.
func checkKeysFree(tx *store.Tx, user string, keys []string) error {
	users, err := tx.Reader().Users()
	if err != nil {
		return err
	}
	for _, k := range keys {
		for _, o := range users {
			if o.Name == user {
				continue
			}
			for _, held := range o.PublicKeys {
				if serve.SameKey(k, held) {
					fp, _ := serve.Fingerprint(k)
					return fmt.Errorf("key %s already belongs to user %s; a key identifies one user, so each person needs their own", fp, o.Name)
				}
			}
		}
	}
	return nil
}

// addKeys appends keys to have, skipping ones already there.
func addKeys(have, keys []string) []string {
	for _, k := range keys {
		dup := false
		for _, h := range have {
			if serve.SameKey(k, h) {
				dup = true
				break
			}
		}
		if !dup {
			have = append(have, k)
		}
	}
	return have
}

func runUserAdd(e *env, args []string, roleName string, kf *keyFlags) error {
	if len(args) != 1 {
		return usagef("give one user name")
	}
	if roleName == "" {
		return usagef("--role is required (admin, manager, operator, analyst or viewer)")
	}
	role, err := model.ParseRole(roleName)
	if err != nil {
		return usagef("--role: %v", err)
	}
	keys, err := kf.read()
	if err != nil {
		return err
	}
	st, err := e.open()
	if err != nil {
		return err
	}
	u := model.User{Name: args[0], Role: role, PublicKeys: addKeys(nil, keys)}
	if err := st.Update(e.actor, func(tx *store.Tx) error {
		if err := checkKeysFree(tx, u.Name, u.PublicKeys); err != nil {
			return err
		}
		return tx.InsertUser(&u)
	}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added user %s as %s", u.Name, u.Role)
	switch n := len(u.PublicKeys); n {
	case 0:
		fmt.Fprintf(e.stdout, " (no SSH key: add one with `karton user keys %s --add KEY` to let them connect to `karton serve`)\n", u.Name)
	case 1:
		fmt.Fprintln(e.stdout, " with 1 SSH key")
	default:
		fmt.Fprintf(e.stdout, " with %d SSH keys\n", n)
	}
	return nil
}

func userKeysCmd(fs *flag.FlagSet) runFunc {
	var kf keyFlags
	kf.declare(fs, "add")
	var remove []string
	fs.Func("remove", "remove the key with this fingerprint (SHA256:…, as listed) (repeatable)", func(s string) error {
		remove = append(remove, strings.TrimSpace(s))
		return nil
	})
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error { return runUserKeys(e, args, &kf, remove, *asJSON) }
}

// runUserKeys lists a user's SSH keys, after adding and removing any given.
func runUserKeys(e *env, args []string, kf *keyFlags, remove []string, asJSON bool) error {
	if len(args) != 1 {
		return usagef("give one user name")
	}
	add, err := kf.read()
	if err != nil {
		return err
	}
	st, err := e.open()
	if err != nil {
		return err
	}
	name := args[0]
	var u model.User
	if len(add) > 0 || len(remove) > 0 {
		err = st.Update(e.actor, func(tx *store.Tx) error {
			cur, err := tx.Reader().User(name)
			if err != nil {
				return err
			}
			keys, err := withoutKeys(cur.PublicKeys, remove)
			if err != nil {
				return err
			}
			if err := checkKeysFree(tx, name, add); err != nil {
				return err
			}
			if err := tx.SetUserKeys(name, addKeys(keys, add)); err != nil {
				return err
			}
			u, err = tx.Reader().User(name)
			return err
		})
	} else {
		err = st.View(e.actor, func(r *store.Reader) (err error) { u, err = r.User(name); return })
	}
	if err != nil {
		return err
	}
	type row struct {
		Fingerprint string `json:"fingerprint"`
		Type        string `json:"type"`
		Comment     string `json:"comment"`
		Key         string `json:"key"`
	}
	rows := make([]row, 0, len(u.PublicKeys))
	for _, k := range u.PublicKeys {
		fp, err := serve.Fingerprint(k)
		if err != nil {
			fp = "(unreadable: " + err.Error() + ")"
		}
		f := strings.Fields(k)
		r := row{Fingerprint: fp, Key: k}
		if len(f) > 0 {
			r.Type = f[0]
		}
		if len(f) > 2 {
			r.Comment = strings.Join(f[2:], " ")
		}
		rows = append(rows, r)
	}
	if asJSON {
		return printJSON(e.stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintf(e.stdout, "%s has no SSH keys; add one with `karton user keys %s --add \"ssh-ed25519 AAAA…\"` or --key-file ~/.ssh/id_ed25519.pub\n", name, name)
		return nil
	}
	t := make([][]string, len(rows))
	for i, r := range rows {
		t[i] = []string{r.Fingerprint, r.Type, r.Comment}
	}
	return table(e.stdout, []string{"FINGERPRINT", "TYPE", "COMMENT"}, t)
}

// withoutKeys drops the keys with the given fingerprints; each must match.
func withoutKeys(keys, fingerprints []string) ([]string, error) {
	out := keys
	for _, want := range fingerprints {
		if !strings.HasPrefix(want, "SHA256:") {
			want = "SHA256:" + want
		}
		kept := out[:0:0]
		found := false
		for _, k := range out {
			if fp, err := serve.Fingerprint(k); err == nil && fp == want {
				found = true
				continue
			}
			kept = append(kept, k)
		}
		if !found {
			return nil, fmt.Errorf("--remove %s: the user has no key with this fingerprint (see `karton user keys NAME`)", want)
		}
		out = kept
	}
	return out, nil
}

func userListCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error { return runUserList(e, *asJSON) }
}

func runUserList(e *env, asJSON bool) error {
	st, err := e.open()
	if err != nil {
		return err
	}
	var users []model.User
	if err := st.View(e.actor, func(r *store.Reader) (err error) { users, err = r.Users(); return }); err != nil {
		return err
	}
	if asJSON {
		type row struct {
			Name      string   `json:"name"`
			Role      string   `json:"role"`
			Keys      int      `json:"keys"`
			CreatedAt string   `json:"created_at"`
			CreatedBy string   `json:"created_by"`
			Can       []string `json:"permissions"`
		}
		out := make([]row, 0, len(users))
		for _, u := range users {
			r := row{Name: u.Name, Role: string(u.Role), Keys: len(u.PublicKeys), CreatedAt: u.CreatedAt.Format("2006-01-02T15:04:05Z07:00"), CreatedBy: u.CreatedBy, Can: []string{}}
			for _, p := range model.Permissions {
				if u.Role.Can(p) {
					r.Can = append(r.Can, string(p))
				}
			}
			out = append(out, r)
		}
		return printJSON(e.stdout, out)
	}
	rows := make([][]string, 0, len(users))
	for _, u := range users {
		rows = append(rows, []string{u.Name, string(u.Role), fmt.Sprint(len(u.PublicKeys)), u.CreatedAt.Format("2006-01-02"), u.CreatedBy})
	}
	return table(e.stdout, []string{"NAME", "ROLE", "KEYS", "SINCE", "ADDED BY"}, rows)
}

func runUserSetRole(e *env, args []string) error {
	if len(args) != 2 {
		return usagef("give a user name and a role")
	}
	role, err := model.ParseRole(args[1])
	if err != nil {
		return usagef("%v", err)
	}
	st, err := e.open()
	if err != nil {
		return err
	}
	if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.SetUserRole(args[0], role) }); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is now %s\n", args[0], role)
	return nil
}

func runUserRemove(e *env, args []string) error {
	if len(args) != 1 {
		return usagef("give one user name")
	}
	st, err := e.open()
	if err != nil {
		return err
	}
	if strings.EqualFold(args[0], e.actor.Name) {
		return fmt.Errorf("you cannot remove yourself (%s); ask another admin", e.actor.Name)
	}
	if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.RemoveUser(args[0]) }); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed user %s\n", args[0])
	return nil
}

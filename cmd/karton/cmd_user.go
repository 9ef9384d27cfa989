package main

import (
	"flag"
	"fmt"
	"strings"

	"karton/model"
	"karton/store"
)

func userAddCmd(fs *flag.FlagSet) runFunc {
	roleName := fs.String("role", "", "role: admin, manager, operator, analyst or viewer")
	return func(e *env, args []string) error { return runUserAdd(e, args, *roleName) }
}

func runUserAdd(e *env, args []string, roleName string) error {
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
	st, err := e.open()
	if err != nil {
		return err
	}
	u := model.User{Name: args[0], Role: role}
	if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.InsertUser(&u) }); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added user %s as %s\n", u.Name, u.Role)
	return nil
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

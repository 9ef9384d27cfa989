package store

import (
	"errors"
	"fmt"
	"slices"

	"karton/model"
)

// SystemActor is used for work Karton does on its own behalf (migrations,
// bootstrap). It is never a stored user.
var SystemActor = model.Actor{Name: "karton", Role: model.RoleAdmin, Via: "system"}

// InsertUser adds a user (admin only).
func (t *Tx) InsertUser(u *model.User) error {
	if err := t.require(model.PermAdminister, "manage users"); err != nil {
		return err
	}
	return t.insertUser(u)
}

func (t *Tx) insertUser(u *model.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	b := t.bucket(bUsers)
	if b.Get([]byte(u.Name)) != nil {
		return &ConflictError{What: fmt.Sprintf("user %s exists already (change the role with `karton user set-role`)", u.Name)}
	}
	u.CreatedAt, u.CreatedBy = t.now, t.actor.Name
	v := encodeUser(u)
	if err := b.Put([]byte(u.Name), v); err != nil {
		return err
	}
	t.count("users", 1)
	t.change(ChangeUser, 0)
	return t.Audit("user.add", "user:"+u.Name, v)
}

// SetUserRole changes a user's role (admin only). The last admin cannot be
// demoted, so a store can never be left without one.
func (t *Tx) SetUserRole(name string, role model.Role) error {
	if err := t.require(model.PermAdminister, "manage users"); err != nil {
		return err
	}
	if _, err := model.ParseRole(string(role)); err != nil {
		return err
	}
	u, err := t.Reader().User(name)
	if err != nil {
		return err
	}
	if u.Role == model.RoleAdmin && role != model.RoleAdmin {
		if err := t.keepAnAdmin(name); err != nil {
			return err
		}
	}
	u.Role = role
	return t.putUser(&u, "user.role")
}

// SetUserKeys replaces a user's SSH public keys (admin only).
func (t *Tx) SetUserKeys(name string, keys []string) error {
	if err := t.require(model.PermAdminister, "manage users"); err != nil {
		return err
	}
	u, err := t.Reader().User(name)
	if err != nil {
		return err
	}
	u.PublicKeys = keys
	return t.putUser(&u, "user.keys")
}

// RemoveUser deletes a user (admin only); not the last admin.
func (t *Tx) RemoveUser(name string) error {
	if err := t.require(model.PermAdminister, "manage users"); err != nil {
		return err
	}
	u, err := t.Reader().User(name)
	if err != nil {
		return err
	}
	if u.Role == model.RoleAdmin {
		if err := t.keepAnAdmin(name); err != nil {
			return err
		}
	}
	if err := t.bucket(bUsers).Delete([]byte(name)); err != nil {
		return err
	}
	t.count("users", -1)
	t.change(ChangeUser, 0)
	return t.Audit("user.remove", "user:"+name, []byte(name))
}

func (t *Tx) keepAnAdmin(leaving string) error {
	users, err := t.Reader().Users()
	if err != nil {
		return err
	}
	for _, o := range users {
		if o.Name != leaving && o.Role == model.RoleAdmin {
			return nil
		}
	}
	return fmt.Errorf("%s is the last admin; make someone else admin first", leaving)
}

func (t *Tx) putUser(u *model.User, action string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	v := encodeUser(u)
	if err := t.bucket(bUsers).Put([]byte(u.Name), v); err != nil {
		return err
	}
	t.change(ChangeUser, 0)
	return t.Audit(action, "user:"+u.Name, v)
}

// User returns one user.
func (r *Reader) User(name string) (model.User, error) {
	var u model.User
	v := r.tx.Bucket(bUsers).Get([]byte(name))
	if v == nil {
		return u, notFound("user", name+" (see `karton user list`)")
	}
	return u, decodeUser(v, &u)
}

// Users lists all users by name.
func (r *Reader) Users() ([]model.User, error) {
	var out []model.User
	err := r.tx.Bucket(bUsers).ForEach(func(k, v []byte) error {
		var u model.User
		if err := decodeUser(v, &u); err != nil {
			return fmt.Errorf("user %s: %w", k, err)
		}
		out = append(out, u)
		return nil
	})
	return out, err
}

// UserCount is the number of users.
func (r *Reader) UserCount() (int, error) {
	return r.tx.Bucket(bUsers).Stats().KeyN, nil
}

// UserByKey finds the user owning an SSH public key, given in
// authorized_keys form; comparison ignores the trailing comment.
func (r *Reader) UserByKey(match func(stored string) bool) (model.User, error) {
	users, err := r.Users()
	if err != nil {
		return model.User{}, err
	}
	for _, u := range users {
		if slices.ContainsFunc(u.PublicKeys, match) {
			return u, nil
		}
	}
	return model.User{}, notFound("user", "with this key")
}

// Actor returns the acting identity of a stored user.
func (s *Store) Actor(name, via string) (model.Actor, error) {
	var a model.Actor
	err := s.View(SystemActor, func(r *Reader) error {
		u, err := r.User(name)
		if err != nil {
			return err
		}
		a = model.Actor{Name: u.Name, Role: u.Role, Via: via}
		return nil
	})
	return a, err
}

// LocalActor is the identity of the operating-system user on a local file:
// whoever can open the file can read all of it anyway, so the OS user acts
// as an admin. On a store without users the OS user is registered as its
// first admin (audited), so user management starts with an owner; on a
// store that has users (a demo, a server's file) a stored user of that
// name acts with its stored role, and an unknown OS user acts as an admin
// without being added (reading stats must not change the user list).
func (s *Store) LocalActor(osUser string) (model.Actor, error) {
	a, err := s.Actor(osUser, "cli")
	if err == nil || !errors.Is(err, ErrNotFound) {
		return a, err
	}
	var n int
	if err := s.View(SystemActor, func(r *Reader) error {
		var err error
		n, err = r.UserCount()
		return err
	}); err != nil {
		return a, err
	}
	if n > 0 {
		return model.Actor{Name: osUser, Role: model.RoleAdmin, Via: "cli"}, nil
	}
	err = s.Update(SystemActor, func(t *Tx) error {
		return t.insertUser(&model.User{Name: osUser, Role: model.RoleAdmin})
	})
	if err != nil && !errors.Is(err, ErrConflict) {
		return a, fmt.Errorf("register local user %s: %w", osUser, err)
	}
	return s.Actor(osUser, "cli")
}

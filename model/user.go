package model

import (
	"fmt"
	"strings"
	"time"
)

// Role is what a user may do (PRODUCT.md §5).
type Role string

const (
	RoleAdmin    Role = "admin"
	RoleManager  Role = "manager"
	RoleOperator Role = "operator"
	RoleAnalyst  Role = "analyst"
	RoleViewer   Role = "viewer"
)

// Roles lists the roles from most to least powerful.
var Roles = []Role{RoleAdmin, RoleManager, RoleOperator, RoleAnalyst, RoleViewer}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, x := range Roles {
		if x == r {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (one of admin, manager, operator, analyst, viewer)", s)
}

// Permission is one row of the permission matrix.
type Permission string

const (
	PermSeeAggregates    Permission = "see aggregates and dashboards"
	PermSeePersonalData  Permission = "see personal data unmasked"
	PermEditCustomers    Permission = "edit customers, record consent, import"
	PermEditCampaigns    Permission = "create and edit campaigns, launch approved steps"
	PermApproveCampaigns Permission = "approve campaigns and budgets"
	PermExportPersonal   Permission = "export personal data"
	PermAdminister       Permission = "erase a customer; manage users, channels, settings"
)

var matrix = map[Permission][]Role{
	PermSeeAggregates:    {RoleAdmin, RoleManager, RoleOperator, RoleAnalyst, RoleViewer},
	PermSeePersonalData:  {RoleAdmin, RoleManager, RoleOperator},
	PermEditCustomers:    {RoleAdmin, RoleManager, RoleOperator},
	PermEditCampaigns:    {RoleAdmin, RoleManager, RoleOperator},
	PermApproveCampaigns: {RoleAdmin, RoleManager},
	PermExportPersonal:   {RoleAdmin, RoleManager},
	PermAdminister:       {RoleAdmin},
}

// Permissions lists every permission in matrix order.
var Permissions = []Permission{PermSeeAggregates, PermSeePersonalData, PermEditCustomers, PermEditCampaigns, PermApproveCampaigns, PermExportPersonal, PermAdminister}

// Can reports whether the role has the permission.
func (r Role) Can(p Permission) bool {
	for _, x := range matrix[p] {
		if x == r {
			return true
		}
	}
	return false
}

// User is a person who works with Karton. Over SSH a user is identified by
// one of their public keys (authorized_keys format).
type User struct {
	Name       string
	Role       Role
	PublicKeys []string
	CreatedAt  time.Time
	CreatedBy  string
}

// Validate checks the user record.
func (u *User) Validate() error {
	p := problems{entity: "user"}
	if !validUserName(u.Name) {
		p.add("name", "%q must be 1–32 characters: letters, digits, '.', '_' or '-', starting with a letter", u.Name)
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		p.add("role", "%v", err)
	}
	return p.err()
}

func validUserName(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(r >= '0' && r <= '9') && r != '.' && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// Actor is who performs an operation; every store operation takes one.
type Actor struct {
	Name string
	Role Role
	// Via says how the actor reached the store: "cli", "ssh", "http", "system".
	Via string
	// MaskPersonalData withholds personal data whatever the role: the actor
	// neither sees it unmasked nor exports it. `karton serve --demo` sets it
	// for every session so that a shared screen never shows a real person.
	MaskPersonalData bool
}

// Can reports whether the actor's role has the permission, less what
// MaskPersonalData withholds.
func (a Actor) Can(p Permission) bool {
	if a.MaskPersonalData && (p == PermSeePersonalData || p == PermExportPersonal) {
		return false
	}
	return a.Role.Can(p)
}

func (a Actor) String() string { return fmt.Sprintf("%s (%s)", a.Name, a.Role) }

// PermissionError says who was refused what.
type PermissionError struct {
	Actor      Actor
	Permission Permission
	Action     string // what was attempted, e.g. "record a consent event"
}

func (e *PermissionError) Error() string {
	if e.Actor.MaskPersonalData && e.Actor.Role.Can(e.Permission) {
		return fmt.Sprintf("permission denied: personal data is masked for everyone on this server (demo mode), so %s may not %s", e.Actor.Name, e.Action)
	}
	return fmt.Sprintf("permission denied: %s is %s and may not %s (needs %q, which only %s have)",
		e.Actor.Name, article(e.Actor.Role), e.Action, e.Permission, rolesWith(e.Permission))
}

func article(r Role) string {
	if r == RoleAdmin || r == RoleAnalyst || r == RoleOperator {
		return "an " + string(r)
	}
	return "a " + string(r)
}

func rolesWith(p Permission) string {
	rs := matrix[p]
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r) + "s"
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// Require returns a PermissionError if the actor lacks the permission.
func (a Actor) Require(p Permission, action string) error {
	if a.Can(p) {
		return nil
	}
	return &PermissionError{Actor: a, Permission: p, Action: action}
}

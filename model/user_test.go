package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMaskPersonalDataWithholdsOnlyPersonalData(t *testing.T) {
	admin := Actor{Name: "anna", Role: RoleAdmin, Via: "ssh", MaskPersonalData: true}
	for _, p := range Permissions {
		want := p != PermSeePersonalData && p != PermExportPersonal
		assert.Equal(t, want, admin.Can(p), "%s", p)
	}
	err := admin.Require(PermExportPersonal, "export personal data")
	assert.ErrorContains(t, err, "personal data is masked for everyone on this server")

	viewer := Actor{Name: "vera", Role: RoleViewer, MaskPersonalData: true}
	assert.ErrorContains(t, viewer.Require(PermExportPersonal, "export personal data"), "vera is a viewer",
		"a role that lacks the permission anyway is told about its role")
}

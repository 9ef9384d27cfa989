package main

// commands lists every subcommand. The longest matching path wins, so
// "user add" is found before "user".
var commands = []command{
	{path: "version", summary: "print Karton's version", setup: noFlags(runVersion)},
	{path: "stats", args: "[--json]", summary: "counts per entity, file size and schema version", setup: statsCmd},
	{path: "backup", args: "FILE", summary: "write a consistent copy of the store while it is in use", setup: noFlags(runBackup)},
	{path: "user add", args: "NAME --role ROLE", summary: "add a user (admin)", setup: userAddCmd},
	{path: "user list", args: "[--json]", summary: "list users and their roles", setup: userListCmd},
	{path: "user set-role", args: "NAME ROLE", summary: "change a user's role (admin)", setup: noFlags(runUserSetRole)},
	{path: "user remove", args: "NAME", summary: "remove a user (admin)", setup: noFlags(runUserRemove)},
	{path: "channel list", args: "[--json]", summary: "list channels", setup: channelListCmd},
	{path: "purpose list", args: "[--json]", summary: "list purposes", setup: purposeListCmd},
}

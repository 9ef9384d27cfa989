package main

// commands lists every subcommand. The longest matching path wins, so
// "user add" is found before "user".
var commands = []command{
	{path: "version", summary: "print Karton's version", setup: noFlags(runVersion)},
	{path: "stats", args: "[--json]", summary: "counts per entity, file size and schema version", setup: statsCmd},
	{path: "backup", args: "FILE", summary: "write a consistent copy of the store while it is in use", setup: noFlags(runBackup)},
	{path: "user add", args: "NAME --role ROLE [--key KEY]... [--key-file PATH]", summary: "add a user (admin), with the SSH keys they connect with", setup: userAddCmd},
	{path: "user keys", args: "NAME [--add KEY]... [--key-file PATH] [--remove FINGERPRINT]... [--json]", summary: "list, add or remove a user's SSH keys (changes: admin)", setup: userKeysCmd},
	{path: "user list", args: "[--json]", summary: "list users and their roles", setup: userListCmd},
	{path: "user set-role", args: "NAME ROLE", summary: "change a user's role (admin)", setup: noFlags(runUserSetRole)},
	{path: "user remove", args: "NAME", summary: "remove a user (admin)", setup: noFlags(runUserRemove)},
	{path: "channel list", args: "[--json]", summary: "list channels", setup: channelListCmd},
	{path: "customer add", args: "--email … [--first-name …] […]", summary: "create a customer", setup: customerAddCmd},
	{path: "customer show", args: "ID|EMAIL [--json]", summary: "show a customer", setup: customerShowCmd},
	{path: "customer export-data", args: "ID|EMAIL", summary: "print (JSON) everything held about a person; audited", setup: customerExportCmd},
	{path: "customer erase", args: "ID|EMAIL", summary: "erase a person's personal data (admin); audited", setup: customerEraseCmd},
	{path: "consent record", args: "--customer ID|EMAIL --channel KIND --purpose NAME --kind KIND [...]", summary: "append a consent event to the ledger", setup: consentRecordCmd},
	{path: "consent check", args: "--customer ID|EMAIL --channel KIND --purpose NAME [--at T] [--known-at K] [--json]", summary: "decide whether a contact is allowed, and why", setup: consentCheckCmd},
	{path: "consent history", args: "--customer ID|EMAIL [--json]", summary: "a customer's consent events with evidence", setup: consentHistoryCmd},
	{path: "consent import", args: "FILE.jsonl [--dry-run] [--json]", summary: "append consent events from JSON Lines", setup: consentImportCmd},
	{path: "audit verify", args: "[--json]", summary: "recompute the audit chain; name the first broken entry", setup: auditVerifyCmd},
	{path: "purpose add", args: "NAME --category C [--title T] [--own-similar-products]", summary: "add a purpose (admin)", setup: purposeAddCmd},
	{path: "channel add", args: "NAME --kind KIND [--connector C --setting k=v …] [--cost 0.85]", summary: "add a channel (admin)", setup: channelAddCmd},
	{path: "purpose list", args: "[--json]", summary: "list purposes", setup: purposeListCmd},
	{path: "serve", args: "[--listen ADDR] [--host-key PATH] [--max-sessions N] [--idle-timeout D] [--log FILE] [--demo]", summary: "serve the cockpit over SSH to many users (ssh -p 2222 localhost)", setup: serveCmd},
}

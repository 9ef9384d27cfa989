// Package model holds Karton's domain types and the pure rules that work on
// them: validation, normalisation of contact points, the permission matrix,
// masking of personal data and (in later files) the consent decision table,
// segments, KPIs, RFM and CLV.
//
// The package does no I/O and never reads the clock: every time it needs is
// passed in. It imports nothing else of Karton's, so every other package may
// depend on it.
package model

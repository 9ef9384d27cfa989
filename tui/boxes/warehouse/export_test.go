package warehouse

// PutDemoScores lets the golden tests (package warehouse_test, which
// drives the box through the root App) use the scores fixture.
var PutDemoScores = putDemoScores

// LookAlikes stores a pair of look-alike customers with a merge suggestion.
var LookAlikes = lookAlikes

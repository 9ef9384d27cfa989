package txt

// The golden package defines the -update flag. This package has no screens,
// but importing it keeps `go test ./tui/... -update` working for the whole
// tree (an undefined flag fails the test binary).
import _ "github.com/charmbracelet/x/exp/golden"

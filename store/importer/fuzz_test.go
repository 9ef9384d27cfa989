package importer

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"karton/store"
)

// FuzzImportNeverPanics reads arbitrary bytes as a file of each entity,
// detection and all, as a dry run: a file may be rejected, row by row or
// as a whole, but never crash the import.
//
//	go test ./store/importer -run '^$' -fuzz FuzzImportNeverPanics -fuzztime 2m
func FuzzImportNeverPanics(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("..", "..", "testdata", "import", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 4<<10 {
			b = b[:4<<10]
		}
		f.Add(filepath.Base(name), b)
	}
	st := openStore(f)
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		for _, entity := range store.ImportEntities {
			_, _ = Run(context.Background(), st, admin, BytesSource(name, data), Options{Entity: entity, DryRun: true, Source: "fuzz"})
		}
	})
}

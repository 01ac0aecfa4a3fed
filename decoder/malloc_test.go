package decoder

import (
	"strings"
	"testing"
)

// TestAllocator: jemalloc is linked in as the process allocator, with the
// configuration compiled into the binary.
func TestAllocator(t *testing.T) {
	v, arenas := Allocator()
	if !strings.HasPrefix(v, "5.") || arenas != 2 {
		t.Fatalf("allocator: jemalloc %q with %d arenas, want jemalloc 5.x with 2", v, arenas)
	}
}

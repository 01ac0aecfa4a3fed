package cachefmt

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// docBlock returns the key and type columns of the tab-indented block that
// follows the line starting with intro in doc.go.
func docBlock(t *testing.T, intro string) (keys, kinds []string) {
	t.Helper()
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), intro)
	if !ok {
		t.Fatalf("doc.go has no %q", intro)
	}
	_, rest, _ = strings.Cut(rest, "\n\n")
	row := regexp.MustCompile(`^\t([a-z_]+)\s+(.*)$`)
	for _, l := range strings.Split(rest, "\n") {
		if l == "" {
			break
		}
		if m := row.FindStringSubmatch(l); m != nil {
			keys, kinds = append(keys, m[1]), append(kinds, m[2])
		}
	}
	return keys, kinds
}

// pyKind names a loaded value's Python type as the doc writes it.
func pyKind(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case *types.List:
		return "list"
	case *types.Dict:
		return "dict"
	case *pytorch.Tensor:
		return "tensor"
	}
	return "?"
}

// TestDocKeys: cachefmt/doc.go — the spec a user of the file reads — lists
// exactly the keys the writer writes, in its order, with their types, and
// the format version the writer writes.
func TestDocKeys(t *testing.T) {
	c, _ := sampleCache()
	l, err := Load(writeTemp(t, c, Options{NoSync: true}))
	if err != nil {
		t.Fatal(err)
	}
	top := l.Value.(*types.Dict)
	check := func(intro string, d *types.Dict) {
		keys, kinds := docBlock(t, intro)
		if len(keys) != d.Len() {
			t.Errorf("%q: doc.go lists %d keys %v, the writer writes %d", intro, len(keys), keys, d.Len())
			return
		}
		for i, e := range *d {
			if e.Key != keys[i] {
				t.Errorf("%q: key %d is %v, doc.go says %s", intro, i, e.Key, keys[i])
				continue
			}
			// The doc's type column starts with the value's Python type
			// ("list of str", "int64 tensor [n]", "float or None", ...).
			got := pyKind(e.Value)
			doc := kinds[i]
			if !strings.HasPrefix(doc, got) && !strings.Contains(doc, " "+got) && !(got == "None" && strings.Contains(doc, "None")) {
				t.Errorf("%q: %s is a %s, doc.go says %q", intro, keys[i], got, doc)
			}
		}
	}
	check("The pickled value is a dict with these keys, in this order:", top)
	vc, _ := top.Get("vidcache")
	check("The vidcache dict holds, in this order", vc.(*types.Dict))
	_, kinds := docBlock(t, "The vidcache dict holds, in this order")
	if want := "int: " + string(rune('0'+FormatVersion)); kinds[0] != want {
		t.Errorf("doc.go says format_version is %q, the writer writes %d", kinds[0], FormatVersion)
	}
}

package cachefmt

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// Node describes one value of a loaded file for inspect: its kind, and for
// containers their length and (up to a limit) children.
type Node struct {
	Key      string  `json:"key,omitempty"`
	Kind     string  `json:"kind"` // dict, list, tuple, str, int, float, bool, None, tensor, object, ...
	Len      int     `json:"len,omitempty"`
	DType    string  `json:"dtype,omitempty"`
	Shape    []int   `json:"shape,omitempty"`
	Class    string  `json:"class,omitempty"`
	Value    any     `json:"value,omitempty"` // scalars and short strings
	Items    string  `json:"items,omitempty"` // summary of a list's element kinds
	Children []*Node `json:"children,omitempty"`
}

// maxDescribed bounds the children Describe lists for one container: the
// rest are counted in a final "more" node, so inspect's output stays small
// whatever the file holds.
const maxDescribed = 64

// pythonDict returns a dict's entries as Python's dict holds them: a
// repeated key (str, or a number, compared by value as Python compares
// them) keeps its first position and takes its last value.
func pythonDict(d types.Dict) []types.DictEntry {
	out := make([]types.DictEntry, 0, len(d))
	at := map[any]int{}
	for _, e := range d {
		var k any
		switch x := e.Key.(type) {
		case string:
			k = x
		case int:
			k = float64(x)
		case bool:
			k = 0.0
			if x {
				k = 1.0
			}
		case float64:
			k = x
		case nil:
			k = struct{}{}
		}
		if k != nil {
			if i, ok := at[k]; ok {
				out[i].Value = e.Value
				continue
			}
			at[k] = len(out)
		}
		out = append(out, e)
	}
	return out
}

// Describe builds the structure tree of v, expanding nested dicts and small
// tuples depth levels deep and summarizing lists by their element kinds.
func Describe(v any, depth int) *Node {
	n := &Node{}
	switch v := v.(type) {
	case nil:
		n.Kind = "None"
	case bool:
		n.Kind, n.Value = "bool", v
	case int:
		n.Kind, n.Value = "int", v
	case float64:
		n.Kind, n.Value = "float", v
	case string:
		n.Kind, n.Len = "str", len(v)
		if len(v) <= 80 {
			n.Value = v
		}
	case *pytorch.Tensor:
		n.Kind, n.Shape = "tensor", v.Size
		n.DType = strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", v.Source), "*pytorch."), "Storage")
		n.DType = dtypeName[n.DType]
	case *types.Dict:
		// As Python builds it: a repeated key keeps its first place and
		// its last value.
		entries := pythonDict(*v)
		n.Kind, n.Len = "dict", len(entries)
		if depth > 0 {
			for i, e := range entries {
				if i == maxDescribed {
					n.Children = append(n.Children, &Node{Kind: "more", Len: len(entries) - i})
					break
				}
				c := Describe(e.Value, depth-1)
				c.Key = fmt.Sprint(e.Key)
				n.Children = append(n.Children, c)
			}
		}
	case *types.OrderedDict:
		n.Kind, n.Len = "OrderedDict", v.Len()
		if depth > 0 {
			i := 0
			for el := v.List.Front(); el != nil; el, i = el.Next(), i+1 {
				if i == maxDescribed {
					n.Children = append(n.Children, &Node{Kind: "more", Len: v.Len() - i})
					break
				}
				e := el.Value.(*types.OrderedDictEntry)
				c := Describe(e.Value, depth-1)
				c.Key = fmt.Sprint(e.Key)
				n.Children = append(n.Children, c)
			}
		}
	case *types.List:
		n.Kind, n.Len = "list", v.Len()
		n.Items = itemKinds(*v)
	case *types.Tuple:
		n.Kind, n.Len = "tuple", v.Len()
		if depth > 0 && v.Len() <= 8 {
			for _, x := range *v {
				n.Children = append(n.Children, Describe(x, depth-1))
			}
		} else {
			n.Items = itemKinds(*v)
		}
	case *Object:
		n.Kind, n.Class = "object", v.Qualified()
		if depth > 0 {
			for i, k := range v.Dict {
				if i == maxDescribed {
					n.Children = append(n.Children, &Node{Kind: "more", Len: len(v.Dict) - i})
					break
				}
				c := Describe(k.Value, depth-1)
				c.Key = fmt.Sprint(k.Key)
				n.Children = append(n.Children, c)
			}
		}
	case *Class:
		n.Kind, n.Class = "class", v.Module+"."+v.Name
	default:
		n.Kind = fmt.Sprintf("%T", v)
	}
	return n
}

var dtypeName = map[string]string{
	"Half": "float16", "Float": "float32", "Double": "float64", "Char": "int8", "Short": "int16",
	"Int": "int32", "Long": "int64", "Byte": "uint8", "Bool": "bool", "BFloat16": "bfloat16",
}

func itemKinds(xs []any) string {
	count := map[string]int{}
	for _, x := range xs {
		d := Describe(x, 0)
		k := d.Kind
		switch {
		case d.Kind == "tensor":
			k = fmt.Sprintf("tensor %s %d-D", d.DType, len(d.Shape))
		case d.Class != "":
			k = d.Class
		}
		count[k]++
	}
	var parts []string
	for k, c := range count {
		parts = append(parts, fmt.Sprintf("%d %s", c, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// Text renders the tree, indented.
func (n *Node) Text(b *strings.Builder, indent string) {
	b.WriteString(indent)
	if n.Key != "" {
		fmt.Fprintf(b, "%s: ", n.Key)
	}
	switch n.Kind {
	case "tensor":
		fmt.Fprintf(b, "tensor %s shape %v", n.DType, n.Shape)
	case "list", "tuple":
		fmt.Fprintf(b, "%s[%d]", n.Kind, n.Len)
		if n.Items != "" {
			fmt.Fprintf(b, " of %s", n.Items)
		}
	case "dict", "OrderedDict":
		fmt.Fprintf(b, "%s (%d keys)", n.Kind, n.Len)
	case "more":
		fmt.Fprintf(b, "… %d more", n.Len)
	case "str":
		if n.Value != nil {
			fmt.Fprintf(b, "%q", n.Value)
		} else {
			fmt.Fprintf(b, "str (%d bytes)", n.Len)
		}
	case "object", "class":
		fmt.Fprintf(b, "%s %s", n.Kind, n.Class)
	default:
		if n.Value != nil {
			fmt.Fprintf(b, "%v", n.Value)
		} else {
			b.WriteString(n.Kind)
		}
	}
	b.WriteByte('\n')
	for _, c := range n.Children {
		c.Text(b, indent+"  ")
	}
}

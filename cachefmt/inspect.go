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
		n.Kind, n.Len = "dict", v.Len()
		if depth > 0 {
			for _, e := range *v {
				c := Describe(e.Value, depth-1)
				c.Key = fmt.Sprint(e.Key)
				n.Children = append(n.Children, c)
			}
		}
	case *types.OrderedDict:
		n.Kind, n.Len = "OrderedDict", v.Len()
		if depth > 0 {
			for el := v.List.Front(); el != nil; el = el.Next() {
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
			for _, k := range v.Dict {
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

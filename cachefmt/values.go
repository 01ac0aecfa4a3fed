package cachefmt

// Decoding the inert values Load returns (lists, dicts, tensors, numpy
// arrays, objects' state) into Go values, checking every type and size.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// ptsOf reads video_pts: a list of 1-D tensors, or VideoClips state version
// 2's one concatenated numpy int64 array with video_pts_sizes.
func ptsOf(vc map[string]any) ([][]int64, error) {
	switch v := vc["video_pts"].(type) {
	case *types.List:
		if sizes, ok := vc["video_pts_sizes"]; ok && v.Len() == 0 {
			n, err := intList(sizes, "video_pts_sizes")
			if err != nil {
				return nil, err
			}
			out := make([][]int64, len(n))
			for i, k := range n {
				if k != 0 {
					return nil, fmt.Errorf("video_pts is empty but video_pts_sizes[%d] = %d", i, k)
				}
				out[i] = []int64{}
			}
			return out, nil
		}
		out := make([][]int64, 0, v.Len())
		for i, x := range *v {
			t, err := int64TensorOf(x)
			if err != nil {
				return nil, fmt.Errorf("video_pts[%d]: %v", i, err)
			}
			out = append(out, t)
		}
		return out, nil
	case *Object:
		flat, err := numpyInt64(v)
		if err != nil {
			return nil, fmt.Errorf("video_pts: %v", err)
		}
		sizes, err := intList(vc["video_pts_sizes"], "video_pts_sizes")
		if err != nil {
			return nil, err
		}
		var out [][]int64
		for i, n := range sizes {
			if n < 0 || n > len(flat) {
				return nil, fmt.Errorf("video_pts_sizes[%d] = %d exceeds the %d timestamps left", i, n, len(flat))
			}
			out = append(out, flat[:n:n])
			flat = flat[n:]
		}
		if len(flat) != 0 {
			return nil, fmt.Errorf("%d timestamps beyond video_pts_sizes", len(flat))
		}
		return out, nil
	case nil:
		return nil, errors.New("no video_pts")
	default:
		return nil, fmt.Errorf("video_pts is %s", kind(v))
	}
}

// numpyInt64 decodes a pickled numpy array as the data the pickle holds:
// numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') then BUILD with
// (version, shape, dtype, is_fortran, raw bytes), the dtype itself
// numpy.dtype('i8', ...) with BUILD state (version, byteorder, ...).
func numpyInt64(o *Object) ([]int64, error) {
	if !strings.HasSuffix(o.Qualified(), "multiarray._reconstruct") {
		return nil, fmt.Errorf("%s is not a numpy array", o.Qualified())
	}
	st, ok := o.State.(*types.Tuple)
	if !ok || st.Len() != 5 {
		return nil, fmt.Errorf("numpy array state is %s, not a 5-tuple", kind(o.State))
	}
	shape, err := intList(st.Get(1), "numpy shape")
	if err != nil || len(shape) != 1 {
		return nil, fmt.Errorf("numpy array shape %v is not 1-D", st.Get(1))
	}
	dt, ok := st.Get(2).(*Object)
	if !ok || !strings.HasSuffix(dt.Qualified(), "numpy.dtype") || len(dt.Args) == 0 {
		return nil, fmt.Errorf("numpy dtype is %s", kind(st.Get(2)))
	}
	name, _ := dt.Args[0].(string)
	order := "<"
	if ds, ok := dt.State.(*types.Tuple); ok && ds.Len() > 1 {
		if s, ok := ds.Get(1).(string); ok {
			order = s
		}
	}
	if strings.TrimLeft(name, "<>=|") != "i8" {
		return nil, fmt.Errorf("numpy dtype %q, expected int64", name)
	}
	raw, err := bytesOf(st.Get(4))
	if err != nil {
		return nil, fmt.Errorf("numpy data: %v", err)
	}
	if shape[0] < 0 || len(raw)%8 != 0 || len(raw)/8 != shape[0] {
		return nil, fmt.Errorf("numpy data holds %d bytes for %d int64s", len(raw), shape[0])
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if order == ">" {
		bo = binary.BigEndian
	}
	out := make([]int64, shape[0])
	for i := range out {
		out[i] = int64(bo.Uint64(raw[8*i:]))
	}
	return out, nil
}

// bytesOf reads pickled bytes: protocol 2 writes them as
// _codecs.encode(str, 'latin1'); later protocols as bytes.
func bytesOf(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case *types.ByteArray:
		return []byte(*v), nil
	case *Object:
		if v.Qualified() != "_codecs.encode" || len(v.Args) != 2 {
			break
		}
		s, ok := v.Args[0].(string)
		enc, _ := v.Args[1].(string)
		if !ok || (enc != "latin1" && enc != "latin-1") {
			break
		}
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("latin-1 data holds U+%04X", r)
			}
			b = append(b, byte(r))
		}
		return b, nil
	}
	return nil, fmt.Errorf("%s is not bytes", kind(v))
}

func attrs(o *Object) map[string]any {
	m := map[string]any{}
	if d, ok := o.State.(*types.Dict); ok {
		for k, v := range dictMap(d) {
			m[k] = v
		}
	}
	for _, it := range o.Dict {
		if k, ok := it.Key.(string); ok {
			m[k] = it.Value
		}
	}
	return m
}

func dictMap(d *types.Dict) map[string]any {
	m := map[string]any{}
	for _, e := range *d {
		if k, ok := e.Key.(string); ok {
			m[k] = e.Value
		}
	}
	return m
}

func intList(v any, what string) ([]int, error) {
	var xs []any
	switch v := v.(type) {
	case *types.List:
		xs = *v
	case *types.Tuple:
		xs = *v
	default:
		return nil, fmt.Errorf("%s is %s, not a list", what, kind(v))
	}
	out := make([]int, 0, len(xs))
	for i, x := range xs {
		n, ok := x.(int)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %s, not an int", what, i, kind(x))
		}
		out = append(out, n)
	}
	return out, nil
}

// fpsList reads video_fps; ints reports which entries were Python ints
// (torchcodec's average_fps of a whole number).
func fpsList(v any) (out []*float64, ints []bool, err error) {
	l, ok := v.(*types.List)
	if !ok {
		return nil, nil, fmt.Errorf("video_fps is %s, not a list", kind(v))
	}
	out = make([]*float64, 0, l.Len())
	ints = make([]bool, 0, l.Len())
	for i, x := range *l {
		isInt := false
		switch x := x.(type) {
		case nil:
			out = append(out, nil)
		case float64:
			out = append(out, &x)
		case int:
			f := float64(x)
			out = append(out, &f)
			isInt = JSONInt(f)
		default:
			return nil, nil, fmt.Errorf("video_fps[%d] is %s", i, kind(x))
		}
		ints = append(ints, isInt)
	}
	return out, ints, nil
}

// kind names a loaded value's Python type for error messages.
func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "missing"
	case *Object:
		return "a " + v.Qualified() + " object"
	case *types.List:
		return "a list"
	case *types.Tuple:
		return "a tuple"
	case *types.Dict:
		return "a dict"
	case string:
		return "a str"
	case int, *big.Int:
		return "an int"
	case float64:
		return "a float"
	case bool:
		return "a bool"
	}
	return fmt.Sprintf("%T", v)
}

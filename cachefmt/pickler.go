package cachefmt

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/vidcache/vidcache/cachefmt/pickle"
)

// The pickler emits only opcodes on the weights_only allowlist of torch
// 1.13, 2.6 and 2.14 (BINFLOAT excepted, which 1.13's weights-only loader
// rejects; see the package documentation), with the bytes of package
// pickle's opcode table.

// batchSize is how many items go between one MARK and its APPENDS/SETITEMS,
// as CPython's pickler does.
const batchSize = 1000

// Tuple is a Python tuple for the emitter.
type Tuple []any

// Dict is a Python dict with its keys in insertion order.
type Dict struct {
	Keys   []string
	Values []any
}

// Set appends key=value (keys are not checked for duplicates).
func (d *Dict) Set(key string, value any) {
	d.Keys = append(d.Keys, key)
	d.Values = append(d.Values, value)
}

// pickler emits protocol-2 pickles into an in-memory buffer, or, with w
// set, through a small buffer into w (so a cache's pickle never has to be
// held whole: Encode runs it twice, once to learn its size).
type pickler struct {
	buf    []byte
	memo   map[string]uint32 // memoized globals and constants, by a caller-chosen key
	nextID uint32
	w      io.Writer
	n      int64 // bytes already written to w
	err    error // first error from w
}

// flushAt is how much a streaming pickler buffers before writing.
const flushAt = 64 << 10

// flush hands the buffer to w once it holds flushAt bytes (or always, when
// final). Without w it does nothing.
func (p *pickler) flush(final bool) {
	if p.w == nil || p.err != nil || (!final && len(p.buf) < flushAt) {
		return
	}
	n, err := p.w.Write(p.buf)
	p.n += int64(n)
	p.err = err
	p.buf = p.buf[:0]
}

func newPickler() *pickler {
	p := &pickler{memo: make(map[string]uint32)}
	p.buf = append(p.buf, pickle.OpProto, 2)
	return p
}

func (p *pickler) op(b byte) { p.buf = append(p.buf, b) }

func (p *pickler) int(v int64) {
	switch {
	case v >= 0 && v < 1<<8:
		p.buf = append(p.buf, pickle.OpBinInt1, byte(v))
	case v >= 0 && v < 1<<16:
		p.buf = append(p.buf, pickle.OpBinInt2, byte(v), byte(v>>8))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		p.buf = append(p.buf, pickle.OpBinInt)
		p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(int32(v)))
	default:
		// LONG1: minimal little-endian two's complement.
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		n := 8
		for n > 1 {
			top, next := b[n-1], b[n-2]
			if (top == 0 && next&0x80 == 0) || (top == 0xff && next&0x80 != 0) {
				n--
				continue
			}
			break
		}
		p.buf = append(p.buf, pickle.OpLong1, byte(n))
		p.buf = append(p.buf, b[:n]...)
	}
}

func (p *pickler) float(v float64) {
	p.buf = append(p.buf, pickle.OpBinFloat)
	p.buf = binary.BigEndian.AppendUint64(p.buf, math.Float64bits(v))
}

func (p *pickler) str(s string) {
	s = toPython(s)
	p.buf = append(p.buf, pickle.OpBinUnicode)
	p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(len(s)))
	p.buf = append(p.buf, s...)
}

func (p *pickler) bool(v bool) {
	if v {
		p.op(pickle.OpNewTrue)
	} else {
		p.op(pickle.OpNewFalse)
	}
}

func (p *pickler) put(key string) {
	id := p.nextID
	p.nextID++
	p.memo[key] = id
	if id < 256 {
		p.buf = append(p.buf, pickle.OpBinPut, byte(id))
	} else {
		p.buf = append(p.buf, pickle.OpLongBinPut)
		p.buf = binary.LittleEndian.AppendUint32(p.buf, id)
	}
}

// get pushes a memoized object; it reports false if key was never put.
func (p *pickler) get(key string) bool {
	id, ok := p.memo[key]
	if !ok {
		return false
	}
	if id < 256 {
		p.buf = append(p.buf, pickle.OpBinGet, byte(id))
	} else {
		p.buf = append(p.buf, pickle.OpLongBinGet)
		p.buf = binary.LittleEndian.AppendUint32(p.buf, id)
	}
	return true
}

// global pushes module.name, memoized after its first use.
func (p *pickler) global(module, name string) {
	key := "global:" + module + "." + name
	if p.get(key) {
		return
	}
	p.buf = append(p.buf, pickle.OpGlobal)
	p.buf = append(p.buf, module...)
	p.buf = append(p.buf, '\n')
	p.buf = append(p.buf, name...)
	p.buf = append(p.buf, '\n')
	p.put(key)
}

// tupleEnd closes a tuple of n items already on the stack (after a MARK if n > 3).
func (p *pickler) tupleEnd(n int) {
	switch n {
	case 0:
		p.op(pickle.OpEmptyTuple)
	case 1:
		p.op(pickle.OpTuple1)
	case 2:
		p.op(pickle.OpTuple2)
	case 3:
		p.op(pickle.OpTuple3)
	default:
		p.op(pickle.OpTuple)
	}
}

// list emits a list of n items, calling item(i) to push each.
func (p *pickler) list(n int, item func(i int) error) error {
	p.op(pickle.OpEmptyList)
	for start := 0; start < n; start += batchSize {
		end := min(start+batchSize, n)
		p.op(pickle.OpMark)
		for i := start; i < end; i++ {
			if err := item(i); err != nil {
				return err
			}
		}
		p.op(pickle.OpAppends)
		p.flush(false)
	}
	return p.err
}

// value emits a plain Go value: nil, bool, int, int64, float64, string, Tuple,
// []any, []string, []int64, *Dict.
func (p *pickler) value(v any) error {
	switch v := v.(type) {
	case nil:
		p.op(pickle.OpNone)
	case bool:
		p.bool(v)
	case int:
		p.int(int64(v))
	case int64:
		p.int(v)
	case float64:
		p.float(v)
	case string:
		p.str(v)
	case []string:
		return p.list(len(v), func(i int) error { p.str(v[i]); return nil })
	case []int64:
		return p.list(len(v), func(i int) error { p.int(v[i]); return nil })
	case []any:
		return p.list(len(v), func(i int) error { return p.value(v[i]) })
	case Tuple:
		if len(v) > 3 {
			p.op(pickle.OpMark)
		}
		for _, x := range v {
			if err := p.value(x); err != nil {
				return err
			}
		}
		p.tupleEnd(len(v))
	case *Dict:
		p.op(pickle.OpEmptyDict)
		for start := 0; start < len(v.Keys); start += batchSize {
			end := min(start+batchSize, len(v.Keys))
			p.op(pickle.OpMark)
			for i := start; i < end; i++ {
				p.str(v.Keys[i])
				if err := p.value(v.Values[i]); err != nil {
					return err
				}
			}
			p.op(pickle.OpSetItems)
		}
	default:
		return fmt.Errorf("cachefmt: cannot pickle %T", v)
	}
	return nil
}

// storageRef names one storage record of a torch file.
type storageRef struct {
	key   string // record name under data/
	numel int64  // elements in the whole storage
}

// tensor pushes torch._utils._rebuild_tensor_v2(storage, offset, (size,),
// (1,), False, hooks) for a 1-D int64 view of st. The storage is loaded once:
// the first view gives the persistent id to BINPERSID and memoizes the
// storage object it returns; later views fetch that object with BINGET, so
// torch's persistent_load runs once per file instead of once per tensor. The
// stride and the empty backward-hooks OrderedDict (never mutated for int64
// tensors) are shared the same way; each further view costs about 20 bytes.
func (p *pickler) tensor(st storageRef, offset, size int64) {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(pickle.OpMark)
	if !p.get("storage:" + st.key) {
		p.op(pickle.OpMark)
		p.str("storage")
		p.global("torch", "LongStorage")
		p.str(st.key)
		p.str("cpu")
		p.int(st.numel)
		p.op(pickle.OpTuple)
		p.op(pickle.OpBinPersID)
		p.put("storage:" + st.key)
	}
	p.int(offset)
	p.int(size)
	p.op(pickle.OpTuple1)
	if !p.get("stride1") {
		p.int(1)
		p.op(pickle.OpTuple1)
		p.put("stride1")
	}
	p.op(pickle.OpNewFalse)
	if !p.get("hooks") {
		p.global("collections", "OrderedDict")
		p.op(pickle.OpEmptyTuple)
		p.op(pickle.OpReduce)
		p.put("hooks")
	}
	p.op(pickle.OpTuple)
	p.op(pickle.OpReduce)
}

func (p *pickler) finish() []byte {
	p.op(pickle.OpStop)
	return p.buf
}

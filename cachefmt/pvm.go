package cachefmt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// pvm simulates Python's pickle machine over one pickle without building
// anything: it tracks the stack, the mark stack and the memo as the real
// unpickler would, knowing of each value only whether it is a string
// (and which), a global (and which), or something else, and how deeply
// containers nest. That is enough to name the global every GLOBAL, INST,
// STACK_GLOBAL, OBJ, NEWOBJ and REDUCE really uses, however the names were
// shuffled through the memo or the stack, and to bound what a hostile pickle
// can make an unpickler do (stack and memo size, nesting depth, the digits
// of a text integer).
type pvm struct {
	stack []pval
	marks []int
	memo  map[uint64]pval
	proto int
	ops   int64
	// result is what STOP popped.
	result pval

	// onGlobal is called for every global the machine resolves (GLOBAL,
	// INST, STACK_GLOBAL, EXT*), with the opcode's offset and name.
	onGlobal func(at int64, op, module, name string)
	// onCall is called when a value is called or instantiated (REDUCE, OBJ,
	// NEWOBJ, NEWOBJ_EX, INST, BUILD) with what was called.
	onCall func(at int64, op string, callee pval)

	budget *workBudget // shared by the pickles of one file
}

// pval is what the simulation knows of a value.
type pval struct {
	kind  byte // 's' string, 'g' global, 'i' int, 'o' anything else
	s     string
	depth int32 // container nesting
	n     int64 // items added to this container (as far as this copy saw)
}

// Budgets of the simulation: a pickle that exceeds one is refused as
// ErrTooComplex (torch would spend unbounded memory or time on it, or
// vidcache's readers recursion).
const (
	maxPickleStack = 4 << 20 // values on the stack
	maxPickleMarks = 1 << 20 // open marks
	maxPickleMemo  = 4 << 20 // memo entries
	maxPickleDepth = 10000   // container nesting
	// maxIntDigits is CPython's limit on converting a decimal string to an
	// int (sys.int_info.default_max_str_digits, 3.11+): a longer INT or
	// LONG raises in Python too. Parsing it is quadratic.
	maxIntDigits = 4300

	// Budgets on work, per file (all the pickles a reader unpickles from
	// it): opcodes run, values created (a vidcache cache makes about 8 a
	// video), items put into one container (a list has a video's worth per
	// video; dicts are small), and wall-clock time.
	maxPickleOps      = 64 << 20
	maxPickleValues   = 16 << 20
	maxContainerItems = 4 << 20
	maxPickleTime     = 30 * time.Second
	budgetCheckEvery  = 1 << 16 // opcodes between clock checks
)

// workBudget is what one file's pickles may still do.
type workBudget struct {
	ops, values int64
	deadline    time.Time
}

func newWorkBudget() *workBudget {
	return &workBudget{ops: maxPickleOps, values: maxPickleValues, deadline: time.Now().Add(maxPickleTime)}
}

// ErrTooComplex marks a pickle beyond the simulation's budgets.
var ErrTooComplex = errors.New("too complex")

func newPVM(b *workBudget) *pvm { return &pvm{memo: map[uint64]pval{}, budget: b} }

func (m *pvm) push(v pval) error {
	if m.budget.values--; m.budget.values < 0 {
		return fmt.Errorf("%w: more than %d values created", ErrTooComplex, maxPickleValues)
	}
	if len(m.stack) >= maxPickleStack {
		return fmt.Errorf("%w: more than %d values on the stack", ErrTooComplex, maxPickleStack)
	}
	if v.depth > maxPickleDepth {
		return fmt.Errorf("%w: containers nested more than %d deep", ErrTooComplex, maxPickleDepth)
	}
	m.stack = append(m.stack, v)
	return nil
}

func (m *pvm) pop() (pval, error) {
	if len(m.stack) == 0 || (len(m.marks) > 0 && len(m.stack) == m.marks[len(m.marks)-1]) {
		return pval{}, errors.New("stack underflow")
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *pvm) top() (*pval, error) {
	if len(m.stack) == 0 || (len(m.marks) > 0 && len(m.stack) == m.marks[len(m.marks)-1]) {
		return nil, errors.New("stack underflow")
	}
	return &m.stack[len(m.stack)-1], nil
}

// popMark pops everything above the last mark, and the mark.
func (m *pvm) popMark() ([]pval, error) {
	if len(m.marks) == 0 {
		return nil, errors.New("no mark on the stack")
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := m.stack[k:]
	m.stack = m.stack[:k]
	return items, nil
}

func deepest(items []pval) int32 {
	var d int32
	for _, v := range items {
		d = max(d, v.depth)
	}
	return d
}

func container(items []pval) pval { return pval{kind: 'o', depth: deepest(items) + 1} }

// step applies one opcode. It returns done at STOP.
func (m *pvm) step(at int64, op opcode, arg []byte) (done bool, err error) {
	m.ops++
	if m.budget.ops--; m.budget.ops < 0 {
		return false, fmt.Errorf("%w: more than %d opcodes", ErrTooComplex, maxPickleOps)
	}
	if m.ops%budgetCheckEvery == 0 && time.Now().After(m.budget.deadline) {
		return false, fmt.Errorf("%w: more than %v of unpickling work", ErrTooComplex, maxPickleTime)
	}
	if h := pvmHandlers[op.code]; h != nil {
		return h(m, at, op, arg)
	}
	return false, fmt.Errorf("opcode %s not simulated", op.name)
}

// pvmHandlers dispatches on the opcode byte.
var pvmHandlers = func() (t [256]func(m *pvm, at int64, op opcode, arg []byte) (bool, error)) {
	byName := map[string]func(m *pvm, at int64, op opcode, arg []byte) (bool, error){
		"PROTO":            (*pvm).opProto,
		"FRAME":            (*pvm).opFrame,
		"READONLY_BUFFER":  (*pvm).opFrame,
		"STOP":             (*pvm).opStop,
		"MARK":             (*pvm).opMark,
		"POP":              (*pvm).opPop,
		"POP_MARK":         (*pvm).opPopMark,
		"DUP":              (*pvm).opDup,
		"INT":              (*pvm).opInt,
		"LONG":             (*pvm).opInt,
		"LONG1":            (*pvm).opLong1,
		"LONG4":            (*pvm).opLong1,
		"FLOAT":            (*pvm).opFloat,
		"BININT":           (*pvm).opFloat,
		"BININT1":          (*pvm).opFloat,
		"BININT2":          (*pvm).opFloat,
		"NONE":             (*pvm).opFloat,
		"BINFLOAT":         (*pvm).opFloat,
		"NEWTRUE":          (*pvm).opFloat,
		"NEWFALSE":         (*pvm).opFloat,
		"BINBYTES":         (*pvm).opFloat,
		"SHORT_BINBYTES":   (*pvm).opFloat,
		"BINBYTES8":        (*pvm).opFloat,
		"BYTEARRAY8":       (*pvm).opFloat,
		"NEXT_BUFFER":      (*pvm).opFloat,
		"PERSID":           (*pvm).opFloat,
		"EMPTY_DICT":       (*pvm).opEmptyDict,
		"EMPTY_LIST":       (*pvm).opEmptyDict,
		"EMPTY_TUPLE":      (*pvm).opEmptyDict,
		"EMPTY_SET":        (*pvm).opEmptyDict,
		"STRING":           (*pvm).opString,
		"BINSTRING":        (*pvm).opString,
		"SHORT_BINSTRING":  (*pvm).opString,
		"UNICODE":          (*pvm).opString,
		"BINUNICODE":       (*pvm).opString,
		"SHORT_BINUNICODE": (*pvm).opString,
		"BINUNICODE8":      (*pvm).opString,
		"BINPERSID":        (*pvm).opBinpersid,
		"GLOBAL":           (*pvm).opGlobal,
		"INST":             (*pvm).opGlobal,
		"STACK_GLOBAL":     (*pvm).opStackGlobal,
		"EXT1":             (*pvm).opExt1,
		"EXT2":             (*pvm).opExt1,
		"EXT4":             (*pvm).opExt1,
		"REDUCE":           (*pvm).opReduce,
		"BUILD":            (*pvm).opBuild,
		"OBJ":              (*pvm).opObj,
		"NEWOBJ":           (*pvm).opNewobj,
		"NEWOBJ_EX":        (*pvm).opNewobj,
		"DICT":             (*pvm).opDict,
		"LIST":             (*pvm).opDict,
		"TUPLE":            (*pvm).opDict,
		"FROZENSET":        (*pvm).opDict,
		"TUPLE1":           (*pvm).opTuple1,
		"TUPLE2":           (*pvm).opTuple1,
		"TUPLE3":           (*pvm).opTuple1,
		"APPEND":           (*pvm).opAppend,
		"SETITEM":          (*pvm).opSetitem,
		"APPENDS":          (*pvm).opAppends,
		"SETITEMS":         (*pvm).opAppends,
		"ADDITEMS":         (*pvm).opAppends,
		"PUT":              (*pvm).opPut,
		"BINPUT":           (*pvm).opPut,
		"LONG_BINPUT":      (*pvm).opPut,
		"MEMOIZE":          (*pvm).opPut,
		"GET":              (*pvm).opGet,
		"BINGET":           (*pvm).opGet,
		"LONG_BINGET":      (*pvm).opGet,
	}
	for c, op := range opcodes {
		if h := byName[op.name]; h != nil {
			t[c] = h
		}
	}
	return t
}()

// opProto runs PROTO.
func (m *pvm) opProto(at int64, op opcode, arg []byte) (done bool, err error) {
	m.proto = int(arg[0])
	return false, nil
}

// opFrame runs FRAME, READONLY_BUFFER.
func (m *pvm) opFrame(at int64, op opcode, arg []byte) (done bool, err error) {

	return false, nil
}

// opStop runs STOP.
func (m *pvm) opStop(at int64, op opcode, arg []byte) (done bool, err error) {
	v, err := m.pop()
	if err != nil {
		return false, err
	}
	m.result = v
	return true, nil
}

// opMark runs MARK.
func (m *pvm) opMark(at int64, op opcode, arg []byte) (done bool, err error) {
	if len(m.marks) >= maxPickleMarks {
		return false, fmt.Errorf("%w: more than %d open marks", ErrTooComplex, maxPickleMarks)
	}
	m.marks = append(m.marks, len(m.stack))
	return false, nil
}

// opPop runs POP.
func (m *pvm) opPop(at int64, op opcode, arg []byte) (done bool, err error) {
	if len(m.stack) > 0 && (len(m.marks) == 0 || len(m.stack) > m.marks[len(m.marks)-1]) {
		m.stack = m.stack[:len(m.stack)-1]
	} else if _, err := m.popMark(); err != nil {
		return false, err
	}
	return false, nil
}

// opPopMark runs POP_MARK.
func (m *pvm) opPopMark(at int64, op opcode, arg []byte) (done bool, err error) {
	if _, err := m.popMark(); err != nil {
		return false, err
	}
	return false, nil
}

// opDup runs DUP.
func (m *pvm) opDup(at int64, op opcode, arg []byte) (done bool, err error) {
	t, err := m.top()
	if err != nil {
		return false, err
	}
	m.budget.values++ // a reference, not a new value
	return false, m.push(*t)
}

// opInt runs INT, LONG.
func (m *pvm) opInt(at int64, op opcode, arg []byte) (done bool, err error) {
	s := strings.TrimSuffix(strings.TrimSpace(string(arg)), "L")
	if len(strings.TrimLeft(s, "+-")) > maxIntDigits {
		return false, fmt.Errorf("%w: a %s of %d digits (Python refuses more than %d)", ErrTooComplex, op.name, len(s), maxIntDigits)
	}
	return false, m.push(pval{kind: 'i', s: s})
}

// opLong1 runs LONG1, LONG4.
func (m *pvm) opLong1(at int64, op opcode, arg []byte) (done bool, err error) {
	v := pval{kind: 'o'}
	if len(arg) <= 32 {
		v = pval{kind: 'i', s: decodeLong(arg).String()}
	}
	return false, m.push(v)
}

// opFloat runs FLOAT, BININT, BININT1, BININT2, NONE, BINFLOAT, NEWTRUE, NEWFALSE, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8, NEXT_BUFFER, PERSID.
func (m *pvm) opFloat(at int64, op opcode, arg []byte) (done bool, err error) {
	return false, m.push(pval{kind: 'o'})
}

// opEmptyDict runs EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, EMPTY_SET.
func (m *pvm) opEmptyDict(at int64, op opcode, arg []byte) (done bool, err error) {
	return false, m.push(pval{kind: 'o', depth: 1})
}

// opString runs STRING, BINSTRING, SHORT_BINSTRING, UNICODE, BINUNICODE, SHORT_BINUNICODE, BINUNICODE8.
func (m *pvm) opString(at int64, op opcode, arg []byte) (done bool, err error) {
	s := string(arg)
	if op.name == "STRING" {
		s = unquote(s)
	}
	return false, m.push(pval{kind: 's', s: s})
}

// opBinpersid runs BINPERSID.
func (m *pvm) opBinpersid(at int64, op opcode, arg []byte) (done bool, err error) {
	if _, err := m.pop(); err != nil {
		return false, err
	}
	return false, m.push(pval{kind: 'o'})
}

// opGlobal runs GLOBAL, INST.
func (m *pvm) opGlobal(at int64, op opcode, arg []byte) (done bool, err error) {
	mod, nm, _ := strings.Cut(string(arg), "\n")
	name := mod + "." + nm
	if m.onGlobal != nil {
		m.onGlobal(at, op.name, mod, nm)
	}
	if op.name == "GLOBAL" {
		return false, m.push(pval{kind: 'g', s: name})
	}
	items, err := m.popMark()
	if err != nil {
		return false, err
	}
	if m.onCall != nil {
		m.onCall(at, op.name, pval{kind: 'g', s: name})
	}
	return false, m.push(container(items))
}

// opStackGlobal runs STACK_GLOBAL.
func (m *pvm) opStackGlobal(at int64, op opcode, arg []byte) (done bool, err error) {
	name, err := m.pop()
	if err != nil {
		return false, err
	}
	mod, err := m.pop()
	if err != nil {
		return false, err
	}
	if name.kind != 's' || mod.kind != 's' {
		// Python raises "STACK_GLOBAL requires str"; nothing is imported.
		return false, errors.New("STACK_GLOBAL of a value that is not a string")
	}
	g := mod.s + "." + name.s
	if m.onGlobal != nil {
		m.onGlobal(at, op.name, mod.s, name.s)
	}
	return false, m.push(pval{kind: 'g', s: g})
}

// opExt1 runs EXT1, EXT2, EXT4.
func (m *pvm) opExt1(at int64, op opcode, arg []byte) (done bool, err error) {
	var code uint64
	switch len(arg) {
	case 1:
		code = uint64(arg[0])
	case 2:
		code = uint64(binary.LittleEndian.Uint16(arg))
	default:
		code = uint64(binary.LittleEndian.Uint32(arg))
	}
	g := fmt.Sprintf("<copyreg extension %d>", code)
	if m.onGlobal != nil {
		m.onGlobal(at, op.name, "", g)
	}
	return false, m.push(pval{kind: 'g', s: g})
}

// opReduce runs REDUCE.
func (m *pvm) opReduce(at int64, op opcode, arg []byte) (done bool, err error) {
	args, err := m.pop()
	if err != nil {
		return false, err
	}
	fn, err := m.pop()
	if err != nil {
		return false, err
	}
	if m.onCall != nil {
		m.onCall(at, op.name, fn)
	}
	return false, m.push(pval{kind: 'o', depth: args.depth + 1})
}

// opBuild runs BUILD.
func (m *pvm) opBuild(at int64, op opcode, arg []byte) (done bool, err error) {
	state, err := m.pop()
	if err != nil {
		return false, err
	}
	t, err := m.top()
	if err != nil {
		return false, err
	}
	if m.onCall != nil && t.kind != 'o' {
		m.onCall(at, op.name, *t)
	}
	t.depth = max(t.depth, state.depth+1)
	return false, m.check(t)
}

// opObj runs OBJ.
func (m *pvm) opObj(at int64, op opcode, arg []byte) (done bool, err error) {
	items, err := m.popMark()
	if err != nil {
		return false, err
	}
	if len(items) == 0 {
		return false, errors.New("OBJ without a class")
	}
	if m.onCall != nil {
		m.onCall(at, op.name, items[0])
	}
	return false, m.push(container(items[1:]))
}

// opNewobj runs NEWOBJ, NEWOBJ_EX.
func (m *pvm) opNewobj(at int64, op opcode, arg []byte) (done bool, err error) {
	if op.name == "NEWOBJ_EX" {
		if _, err := m.pop(); err != nil {
			return false, err
		}
	}
	args, err := m.pop()
	if err != nil {
		return false, err
	}
	cls, err := m.pop()
	if err != nil {
		return false, err
	}
	if m.onCall != nil {
		m.onCall(at, op.name, cls)
	}
	return false, m.push(pval{kind: 'o', depth: args.depth + 1})
}

// opDict runs DICT, LIST, TUPLE, FROZENSET.
func (m *pvm) opDict(at int64, op opcode, arg []byte) (done bool, err error) {
	items, err := m.popMark()
	if err != nil {
		return false, err
	}
	return false, m.push(container(items))
}

// opTuple1 runs TUPLE1, TUPLE2, TUPLE3.
func (m *pvm) opTuple1(at int64, op opcode, arg []byte) (done bool, err error) {
	n := int(op.name[5] - '0')
	items := make([]pval, n)
	for i := n - 1; i >= 0; i-- {
		if items[i], err = m.pop(); err != nil {
			return false, err
		}
	}
	return false, m.push(container(items))
}

// opAppend runs APPEND.
func (m *pvm) opAppend(at int64, op opcode, arg []byte) (done bool, err error) {
	v, err := m.pop()
	if err != nil {
		return false, err
	}
	t, err := m.top()
	if err != nil {
		return false, err
	}
	t.depth = max(t.depth, v.depth+1)
	return false, m.grow(t, 1)
}

// opSetitem runs SETITEM.
func (m *pvm) opSetitem(at int64, op opcode, arg []byte) (done bool, err error) {
	v, err := m.pop()
	if err != nil {
		return false, err
	}
	k, err := m.pop()
	if err != nil {
		return false, err
	}
	t, err := m.top()
	if err != nil {
		return false, err
	}
	t.depth = max(t.depth, v.depth+1, k.depth+1)
	return false, m.grow(t, 1)
}

// opAppends runs APPENDS, SETITEMS, ADDITEMS.
func (m *pvm) opAppends(at int64, op opcode, arg []byte) (done bool, err error) {
	items, err := m.popMark()
	if err != nil {
		return false, err
	}
	t, err := m.top()
	if err != nil {
		return false, err
	}
	t.depth = max(t.depth, deepest(items)+1)
	return false, m.grow(t, int64(len(items)))
}

// opPut runs PUT, BINPUT, LONG_BINPUT, MEMOIZE.
func (m *pvm) opPut(at int64, op opcode, arg []byte) (done bool, err error) {
	t, err := m.top()
	if err != nil {
		return false, err
	}
	idx, err := memoIndex(op.name, arg, uint64(len(m.memo)))
	if err != nil {
		return false, err
	}
	if _, ok := m.memo[idx]; !ok && len(m.memo) >= maxPickleMemo {
		return false, fmt.Errorf("%w: more than %d memo entries", ErrTooComplex, maxPickleMemo)
	}
	m.memo[idx] = *t
	return false, nil
}

// opGet runs GET, BINGET, LONG_BINGET.
func (m *pvm) opGet(at int64, op opcode, arg []byte) (done bool, err error) {
	idx, err := memoIndex(op.name, arg, 0)
	if err != nil {
		return false, err
	}
	v, ok := m.memo[idx]
	if !ok {
		return false, fmt.Errorf("memo key %d not found", idx)
	}
	m.budget.values++ // a reference, not a new value
	return false, m.push(v)
}

// grow adds n items to the container t.
func (m *pvm) grow(t *pval, n int64) error {
	if t.n += n; t.n > maxContainerItems {
		return fmt.Errorf("%w: more than %d items in one container", ErrTooComplex, maxContainerItems)
	}
	return m.check(t)
}

func (m *pvm) check(v *pval) error {
	if v.depth > maxPickleDepth {
		return fmt.Errorf("%w: containers nested more than %d deep", ErrTooComplex, maxPickleDepth)
	}
	return nil
}

// memoIndex decodes a memo opcode's index; MEMOIZE uses the memo's size.
func memoIndex(op string, arg []byte, size uint64) (uint64, error) {
	switch op {
	case "BINPUT", "BINGET":
		return uint64(arg[0]), nil
	case "LONG_BINPUT", "LONG_BINGET":
		return uint64(binary.LittleEndian.Uint32(arg)), nil
	case "PUT", "GET":
		n, err := strconv.ParseUint(strings.TrimSpace(string(arg)), 10, 63)
		if err != nil {
			return 0, fmt.Errorf("%s: bad memo index %q", op, arg)
		}
		return n, nil
	}
	return size, nil
}

// decodeLong is pickle's little-endian two's-complement integer.
func decodeLong(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	n := new(big.Int).SetBytes(be)
	if len(b) > 0 && b[len(b)-1]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}

// unquote strips a protocol-0 STRING's quotes (Python requires them).
func unquote(s string) string {
	if len(s) >= 2 && s[0] == s[len(s)-1] && (s[0] == '\'' || s[0] == '"') {
		if u, err := strconv.Unquote(`"` + strings.ReplaceAll(s[1:len(s)-1], `"`, `\"`) + `"`); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}

// runPickle walks and simulates one pickle from w to its STOP. Every
// 65,536 opcodes it checks ctx.
func runPickle(ctx context.Context, w *opWalker, m *pvm) error {
	for {
		at, op, arg, err := w.next()
		if err != nil {
			return err
		}
		done, err := m.step(at, op, arg)
		if err != nil {
			return fmt.Errorf("%s at offset %d: %w", op.name, at, err)
		}
		if done {
			return nil
		}
		if m.ops&0xffff == 0 && ctx != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}

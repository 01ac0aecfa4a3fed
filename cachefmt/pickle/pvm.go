package pickle

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
	maxPickleStack = 1 << 20 // values on the stack (pickles push batches of 1,000)
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
func memoIndex(op opcode, arg []byte, size uint64) (uint64, error) {
	switch op.code {
	case OpBinPut, OpBinGet:
		return uint64(arg[0]), nil
	case OpLongBinPut, OpLongBinGet:
		return uint64(binary.LittleEndian.Uint32(arg)), nil
	case OpPut, OpGet:
		n, err := strconv.ParseUint(strings.TrimSpace(string(arg)), 10, 63)
		if err != nil {
			return 0, fmt.Errorf("%s: bad memo index %q", op.name, arg)
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

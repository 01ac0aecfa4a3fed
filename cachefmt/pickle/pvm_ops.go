package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// The pickle machine's opcodes, one small method each (see pvm.step).

// pvmHandlers dispatches on the opcode byte.
var pvmHandlers = [256]func(m *pvm, at int64, op opcode, arg []byte) (bool, error){
	OpProto:           (*pvm).opProto,
	OpFrame:           (*pvm).opNothing,
	OpReadonlyBuffer:  (*pvm).opNothing,
	OpStop:            (*pvm).opStop,
	OpMark:            (*pvm).opMark,
	OpPop:             (*pvm).opPop,
	OpPopMark:         (*pvm).opPopMark,
	OpDup:             (*pvm).opDup,
	OpInt:             (*pvm).opTextInt,
	OpLong:            (*pvm).opTextInt,
	OpLong1:           (*pvm).opBinLong,
	OpLong4:           (*pvm).opBinLong,
	OpFloat:           (*pvm).opOther,
	OpBinInt:          (*pvm).opOther,
	OpBinInt1:         (*pvm).opOther,
	OpBinInt2:         (*pvm).opOther,
	OpNone:            (*pvm).opOther,
	OpBinFloat:        (*pvm).opOther,
	OpNewTrue:         (*pvm).opOther,
	OpNewFalse:        (*pvm).opOther,
	OpBinBytes:        (*pvm).opOther,
	OpShortBinBytes:   (*pvm).opOther,
	OpBinBytes8:       (*pvm).opOther,
	OpByteArray8:      (*pvm).opOther,
	OpNextBuffer:      (*pvm).opOther,
	OpPersID:          (*pvm).opOther,
	OpEmptyDict:       (*pvm).opEmpty,
	OpEmptyList:       (*pvm).opEmpty,
	OpEmptyTuple:      (*pvm).opEmpty,
	OpEmptySet:        (*pvm).opEmpty,
	OpString:          (*pvm).opString,
	OpBinString:       (*pvm).opString,
	OpShortBinString:  (*pvm).opString,
	OpUnicode:         (*pvm).opString,
	OpBinUnicode:      (*pvm).opString,
	OpShortBinUnicode: (*pvm).opString,
	OpBinUnicode8:     (*pvm).opString,
	OpBinPersID:       (*pvm).opBinPersID,
	OpGlobal:          (*pvm).opGlobal,
	OpInst:            (*pvm).opGlobal,
	OpStackGlobal:     (*pvm).opStackGlobal,
	OpExt1:            (*pvm).opExt,
	OpExt2:            (*pvm).opExt,
	OpExt4:            (*pvm).opExt,
	OpReduce:          (*pvm).opReduce,
	OpBuild:           (*pvm).opBuild,
	OpObj:             (*pvm).opObj,
	OpNewObj:          (*pvm).opNewObj,
	OpNewObjEx:        (*pvm).opNewObj,
	OpDict:            (*pvm).opCollect,
	OpList:            (*pvm).opCollect,
	OpTuple:           (*pvm).opCollect,
	OpFrozenSet:       (*pvm).opCollect,
	OpTuple1:          (*pvm).opTupleN,
	OpTuple2:          (*pvm).opTupleN,
	OpTuple3:          (*pvm).opTupleN,
	OpAppend:          (*pvm).opAppend,
	OpSetItem:         (*pvm).opSetItem,
	OpAppends:         (*pvm).opAppends,
	OpSetItems:        (*pvm).opAppends,
	OpAddItems:        (*pvm).opAppends,
	OpPut:             (*pvm).opPut,
	OpBinPut:          (*pvm).opPut,
	OpLongBinPut:      (*pvm).opPut,
	OpMemoize:         (*pvm).opPut,
	OpGet:             (*pvm).opGet,
	OpBinGet:          (*pvm).opGet,
	OpLongBinGet:      (*pvm).opGet,
}

// opProto runs PROTO.
func (m *pvm) opProto(at int64, op opcode, arg []byte) (done bool, err error) {
	m.proto = int(arg[0])
	return false, nil
}

// opNothing runs FRAME, READONLY_BUFFER: nothing to simulate (the walker
// checked FRAME's length).
func (m *pvm) opNothing(at int64, op opcode, arg []byte) (done bool, err error) {
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

// opTextInt runs INT, LONG.
func (m *pvm) opTextInt(at int64, op opcode, arg []byte) (done bool, err error) {
	s := strings.TrimSuffix(strings.TrimSpace(string(arg)), "L")
	if len(strings.TrimLeft(s, "+-")) > maxIntDigits {
		return false, fmt.Errorf("%w: a %s of %d digits (Python refuses more than %d)", ErrTooComplex, op.name, len(s), maxIntDigits)
	}
	return false, m.push(pval{kind: 'i', s: s})
}

// opBinLong runs LONG1, LONG4.
func (m *pvm) opBinLong(at int64, op opcode, arg []byte) (done bool, err error) {
	v := pval{kind: 'o'}
	if len(arg) <= 32 {
		v = pval{kind: 'i', s: decodeLong(arg).String()}
	}
	return false, m.push(v)
}

// opOther pushes a value that is no string, global or container: it runs
// FLOAT, BININT, BININT1, BININT2, NONE, BINFLOAT, NEWTRUE, NEWFALSE, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8, NEXT_BUFFER, PERSID.
func (m *pvm) opOther(at int64, op opcode, arg []byte) (done bool, err error) {
	return false, m.push(pval{kind: 'o'})
}

// opEmpty runs EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, EMPTY_SET.
func (m *pvm) opEmpty(at int64, op opcode, arg []byte) (done bool, err error) {
	return false, m.push(pval{kind: 'o', depth: 1})
}

// opString runs STRING, BINSTRING, SHORT_BINSTRING, UNICODE, BINUNICODE, SHORT_BINUNICODE, BINUNICODE8.
func (m *pvm) opString(at int64, op opcode, arg []byte) (done bool, err error) {
	s := string(arg)
	if op.code == OpString {
		s = unquote(s)
	}
	return false, m.push(pval{kind: 's', s: s})
}

// opBinPersID runs BINPERSID.
func (m *pvm) opBinPersID(at int64, op opcode, arg []byte) (done bool, err error) {
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
	if op.code == OpGlobal {
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

// opExt runs EXT1, EXT2, EXT4.
func (m *pvm) opExt(at int64, op opcode, arg []byte) (done bool, err error) {
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

// opNewObj runs NEWOBJ, NEWOBJ_EX.
func (m *pvm) opNewObj(at int64, op opcode, arg []byte) (done bool, err error) {
	if op.code == OpNewObjEx {
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

// opCollect runs DICT, LIST, TUPLE, FROZENSET: the items above the mark
// become one container.
func (m *pvm) opCollect(at int64, op opcode, arg []byte) (done bool, err error) {
	items, err := m.popMark()
	if err != nil {
		return false, err
	}
	return false, m.push(container(items))
}

// opTupleN runs TUPLE1, TUPLE2, TUPLE3.
func (m *pvm) opTupleN(at int64, op opcode, arg []byte) (done bool, err error) {
	n := int(op.code-OpTuple1) + 1
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

// opSetItem runs SETITEM.
func (m *pvm) opSetItem(at int64, op opcode, arg []byte) (done bool, err error) {
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
	idx, err := memoIndex(op, arg, uint64(len(m.memo)))
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
	idx, err := memoIndex(op, arg, 0)
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

package pickle

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// opWalker reads a pickle's opcodes and their arguments without building any
// value. Every declared length (a string's, a FRAME's) is checked against the
// bytes the input still holds before anything is read or allocated: gopickle
// allocates a declared length before it reads, so a 16-byte file declaring a
// terabyte string would otherwise end the process with "out of memory"
// instead of an error.
type opWalker struct {
	br    *bufio.Reader
	off   int64 // bytes consumed
	limit int64 // total bytes the input holds
	skip  bool  // discard arguments of variable length instead of returning them
	// maxArg > 0: longer variable-length arguments are discarded and
	// returned as "<N bytes>" (audit needs names, not payloads).
	maxArg uint64

	scratch [8]byte
}

func newOpWalker(r io.Reader, limit int64, skip bool) *opWalker {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &opWalker{br: br, limit: limit, skip: skip}
}

// next reads one opcode and its argument; at is the opcode's offset. For
// GLOBAL and INST, arg is "module\nname". A fixed-width arg is only valid
// until the next call.
func (w *opWalker) next() (at int64, op opcode, arg []byte, err error) {
	at = w.off
	c, err := w.br.ReadByte()
	if err == nil && w.left() == 0 {
		err = io.ErrUnexpectedEOF // more bytes than the input declared
	}
	if err != nil {
		return at, op, nil, fmt.Errorf("pickle ends without STOP at offset %d", at)
	}
	w.off++
	op = opcodes[c]
	if op.name == "" {
		return at, op, nil, fmt.Errorf("unknown opcode 0x%02x at offset %d", c, at)
	}
	switch op.kind {
	case argFixed:
		arg, err = w.fixed(op.n)
		if err == nil && op.code == OpFrame {
			if n := binary.LittleEndian.Uint64(arg); n > w.left() {
				err = fmt.Errorf("declares a frame of %d bytes, but only %d are left", n, w.left())
			}
		}
	case argLen1, argLen4, argLen8:
		var nb []byte
		var n uint64
		switch op.kind {
		case argLen1:
			if nb, err = w.fixed(1); err == nil {
				n = uint64(nb[0])
			}
		case argLen4:
			if nb, err = w.fixed(4); err == nil {
				n = uint64(binary.LittleEndian.Uint32(nb))
			}
		default:
			if nb, err = w.fixed(8); err == nil {
				n = binary.LittleEndian.Uint64(nb)
			}
		}
		if err == nil {
			if w.maxArg > 0 && n > w.maxArg && !w.skip {
				if _, err = w.read(n, true); err == nil {
					arg = []byte(fmt.Sprintf("<%d bytes>", n))
				}
			} else {
				arg, err = w.read(n, w.skip)
			}
		}
	case argLine:
		arg, err = w.line()
	case argLines2:
		var m, n []byte
		if m, err = w.line(); err == nil {
			n, err = w.line()
		}
		arg = append(append(m, '\n'), n...)
	}
	if err != nil {
		return at, op, nil, fmt.Errorf("%s at offset %d: %w", op.name, at, err)
	}
	return at, op, arg, nil
}

func (w *opWalker) left() uint64 { return uint64(max(w.limit-w.off, 0)) }

// fixed reads n ≤ 8 bytes into the walker's scratch space.
func (w *opWalker) fixed(n int) ([]byte, error) {
	if uint64(n) > w.left() {
		return nil, fmt.Errorf("needs %d bytes, but only %d are left", n, w.left())
	}
	m, err := io.ReadFull(w.br, w.scratch[:n])
	w.off += int64(m)
	return w.scratch[:n], err
}

// read reads (or with discard, skips) n bytes that the input must still hold.
func (w *opWalker) read(n uint64, discard bool) ([]byte, error) {
	if n > w.left() {
		return nil, fmt.Errorf("declares %d bytes, but only %d are left", n, w.left())
	}
	if discard {
		m, err := w.br.Discard(int(n))
		w.off += int64(m)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	var b []byte
	var err error
	if n <= 1<<16 {
		b = make([]byte, n)
		var m int
		m, err = io.ReadFull(w.br, b)
		b = b[:m]
	} else {
		// Grown as the bytes arrive: limit may itself come from a header
		// (a zip entry's declared size).
		b, err = io.ReadAll(io.LimitReader(w.br, int64(n)))
	}
	w.off += int64(len(b))
	if err == nil && uint64(len(b)) != n {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

func (w *opWalker) line() ([]byte, error) {
	s, err := w.br.ReadString('\n')
	w.off += int64(len(s))
	if err == nil && w.off > w.limit {
		err = fmt.Errorf("a line runs past the input's %d bytes", w.limit)
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return []byte(strings.TrimSuffix(s, "\n")), nil
}

// Globals walks count consecutive pickles of r (which holds limit bytes)
// and returns every global they name, in order: the list audit grades, so
// that a reader that unpickles them afterwards (cachefmt.Load, for inspect
// and import) sees the same globals as audit (gopickle resolves a few, such
// as collections.OrderedDict, without asking its FindClass).
//
// A declared length larger than the input is an error here, before
// gopickle sees it. Each pickle is also run through the pickle-machine
// simulation (pvm), so that one beyond its budgets — a stack of millions of
// marks, lists nested a million deep, an integer of millions of digits — is
// refused here as ErrTooComplex, in bounded memory and time, instead of
// exhausting gopickle or the readers. What was found before an error is
// returned with it.
func Globals(r io.Reader, limit int64, count int) ([]Global, error) {
	w := newOpWalker(r, limit, false)
	w.maxArg = 1 << 10
	b := newWorkBudget()
	var out []Global
	for i := 0; i < count; i++ {
		m := newPVM(b)
		m.onGlobal = func(_ int64, op, module, name string) { out = append(out, Global{op, module, name}) }
		if err := runPickle(nil, w, m); err != nil {
			return out, err
		}
	}
	return out, nil
}

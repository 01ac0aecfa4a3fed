package pickle

// The pickle opcodes, one table for the op walker, the pickle-machine
// simulation and the audit.

// argKind says how an opcode's argument is laid out.
type argKind int

const (
	argNone   argKind = iota
	argFixed          // n bytes
	argLen1           // uint8 length, then bytes
	argLen4           // uint32 (int32 for some) length, then bytes
	argLen8           // uint64 length, then bytes
	argLine           // bytes up to '\n'
	argLines2         // two lines (GLOBAL, INST)
)

type opcode struct {
	name string
	kind argKind
	n    int  // for argFixed
	code byte // the opcode's byte
}

// opcodes is every pickle opcode of protocols 0-5, indexed by its byte
// (name "" for bytes that are no opcode).
var opcodes = [256]opcode{
	'(': {"MARK", argNone, 0, 0}, '.': {"STOP", argNone, 0, 0}, '0': {"POP", argNone, 0, 0}, '1': {"POP_MARK", argNone, 0, 0},
	'2': {"DUP", argNone, 0, 0}, 'F': {"FLOAT", argLine, 0, 0}, 'I': {"INT", argLine, 0, 0}, 'J': {"BININT", argFixed, 4, 0},
	'K': {"BININT1", argFixed, 1, 0}, 'L': {"LONG", argLine, 0, 0}, 'M': {"BININT2", argFixed, 2, 0}, 'N': {"NONE", argNone, 0, 0},
	'P': {"PERSID", argLine, 0, 0}, 'Q': {"BINPERSID", argNone, 0, 0}, 'R': {"REDUCE", argNone, 0, 0}, 'S': {"STRING", argLine, 0, 0},
	'T': {"BINSTRING", argLen4, 0, 0}, 'U': {"SHORT_BINSTRING", argLen1, 0, 0}, 'V': {"UNICODE", argLine, 0, 0},
	'X': {"BINUNICODE", argLen4, 0, 0}, 'a': {"APPEND", argNone, 0, 0}, 'b': {"BUILD", argNone, 0, 0}, 'c': {"GLOBAL", argLines2, 0, 0},
	'd': {"DICT", argNone, 0, 0}, '}': {"EMPTY_DICT", argNone, 0, 0}, 'e': {"APPENDS", argNone, 0, 0}, 'g': {"GET", argLine, 0, 0},
	'h': {"BINGET", argFixed, 1, 0}, 'i': {"INST", argLines2, 0, 0}, 'j': {"LONG_BINGET", argFixed, 4, 0}, 'l': {"LIST", argNone, 0, 0},
	']': {"EMPTY_LIST", argNone, 0, 0}, 'o': {"OBJ", argNone, 0, 0}, 'p': {"PUT", argLine, 0, 0}, 'q': {"BINPUT", argFixed, 1, 0},
	'r': {"LONG_BINPUT", argFixed, 4, 0}, 's': {"SETITEM", argNone, 0, 0}, 't': {"TUPLE", argNone, 0, 0}, ')': {"EMPTY_TUPLE", argNone, 0, 0},
	'u': {"SETITEMS", argNone, 0, 0}, 'G': {"BINFLOAT", argFixed, 8, 0}, 'B': {"BINBYTES", argLen4, 0, 0}, 'C': {"SHORT_BINBYTES", argLen1, 0, 0},
	0x80: {"PROTO", argFixed, 1, 0}, 0x81: {"NEWOBJ", argNone, 0, 0}, 0x82: {"EXT1", argFixed, 1, 0}, 0x83: {"EXT2", argFixed, 2, 0},
	0x84: {"EXT4", argFixed, 4, 0}, 0x85: {"TUPLE1", argNone, 0, 0}, 0x86: {"TUPLE2", argNone, 0, 0}, 0x87: {"TUPLE3", argNone, 0, 0},
	0x88: {"NEWTRUE", argNone, 0, 0}, 0x89: {"NEWFALSE", argNone, 0, 0}, 0x8a: {"LONG1", argLen1, 0, 0}, 0x8b: {"LONG4", argLen4, 0, 0},
	0x8c: {"SHORT_BINUNICODE", argLen1, 0, 0}, 0x8d: {"BINUNICODE8", argLen8, 0, 0}, 0x8e: {"BINBYTES8", argLen8, 0, 0},
	0x8f: {"EMPTY_SET", argNone, 0, 0}, 0x90: {"ADDITEMS", argNone, 0, 0}, 0x91: {"FROZENSET", argNone, 0, 0},
	0x92: {"NEWOBJ_EX", argNone, 0, 0}, 0x93: {"STACK_GLOBAL", argNone, 0, 0}, 0x94: {"MEMOIZE", argNone, 0, 0},
	0x95: {"FRAME", argFixed, 8, 0}, 0x96: {"BYTEARRAY8", argLen8, 0, 0}, 0x97: {"NEXT_BUFFER", argNone, 0, 0},
	0x98: {"READONLY_BUFFER", argNone, 0, 0},
}

func init() {
	for c := range opcodes {
		opcodes[c].code = byte(c)
	}
}

package pickle

// The pickle opcodes: one table for the op walker, the pickle-machine
// simulation, the audit and cachefmt's writer. Each opcode's byte is
// defined once, by its Op constant; the table gives its name and argument
// layout.

// The opcodes of protocols 0-5, named after CPython's pickle module
// (MARK is OpMark, SHORT_BINUNICODE is OpShortBinUnicode).
const (
	// Protocol 0 and 1
	OpMark           byte = '('
	OpStop           byte = '.'
	OpPop            byte = '0'
	OpPopMark        byte = '1'
	OpDup            byte = '2'
	OpFloat          byte = 'F'
	OpInt            byte = 'I'
	OpBinInt         byte = 'J'
	OpBinInt1        byte = 'K'
	OpLong           byte = 'L'
	OpBinInt2        byte = 'M'
	OpNone           byte = 'N'
	OpPersID         byte = 'P'
	OpBinPersID      byte = 'Q'
	OpReduce         byte = 'R'
	OpString         byte = 'S'
	OpBinString      byte = 'T'
	OpShortBinString byte = 'U'
	OpUnicode        byte = 'V'
	OpBinUnicode     byte = 'X'
	OpAppend         byte = 'a'
	OpBuild          byte = 'b'
	OpGlobal         byte = 'c'
	OpDict           byte = 'd'
	OpEmptyDict      byte = '}'
	OpAppends        byte = 'e'
	OpGet            byte = 'g'
	OpBinGet         byte = 'h'
	OpInst           byte = 'i'
	OpLongBinGet     byte = 'j'
	OpList           byte = 'l'
	OpEmptyList      byte = ']'
	OpObj            byte = 'o'
	OpPut            byte = 'p'
	OpBinPut         byte = 'q'
	OpLongBinPut     byte = 'r'
	OpSetItem        byte = 's'
	OpTuple          byte = 't'
	OpEmptyTuple     byte = ')'
	OpSetItems       byte = 'u'
	OpBinFloat       byte = 'G'
	// Protocol 2
	OpProto    byte = 0x80
	OpNewObj   byte = 0x81
	OpExt1     byte = 0x82
	OpExt2     byte = 0x83
	OpExt4     byte = 0x84
	OpTuple1   byte = 0x85
	OpTuple2   byte = 0x86
	OpTuple3   byte = 0x87
	OpNewTrue  byte = 0x88
	OpNewFalse byte = 0x89
	OpLong1    byte = 0x8a
	OpLong4    byte = 0x8b
	// Protocol 3
	OpBinBytes      byte = 'B'
	OpShortBinBytes byte = 'C'
	// Protocol 4
	OpShortBinUnicode byte = 0x8c
	OpBinUnicode8     byte = 0x8d
	OpBinBytes8       byte = 0x8e
	OpEmptySet        byte = 0x8f
	OpAddItems        byte = 0x90
	OpFrozenSet       byte = 0x91
	OpNewObjEx        byte = 0x92
	OpStackGlobal     byte = 0x93
	OpMemoize         byte = 0x94
	OpFrame           byte = 0x95
	// Protocol 5
	OpByteArray8     byte = 0x96
	OpNextBuffer     byte = 0x97
	OpReadonlyBuffer byte = 0x98
)

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

// opcodes is every pickle opcode, indexed by its byte (name "" for bytes
// that are no opcode).
var opcodes = [256]opcode{
	OpMark:            {"MARK", argNone, 0, 0},
	OpStop:            {"STOP", argNone, 0, 0},
	OpPop:             {"POP", argNone, 0, 0},
	OpPopMark:         {"POP_MARK", argNone, 0, 0},
	OpDup:             {"DUP", argNone, 0, 0},
	OpFloat:           {"FLOAT", argLine, 0, 0},
	OpInt:             {"INT", argLine, 0, 0},
	OpBinInt:          {"BININT", argFixed, 4, 0},
	OpBinInt1:         {"BININT1", argFixed, 1, 0},
	OpLong:            {"LONG", argLine, 0, 0},
	OpBinInt2:         {"BININT2", argFixed, 2, 0},
	OpNone:            {"NONE", argNone, 0, 0},
	OpPersID:          {"PERSID", argLine, 0, 0},
	OpBinPersID:       {"BINPERSID", argNone, 0, 0},
	OpReduce:          {"REDUCE", argNone, 0, 0},
	OpString:          {"STRING", argLine, 0, 0},
	OpBinString:       {"BINSTRING", argLen4, 0, 0},
	OpShortBinString:  {"SHORT_BINSTRING", argLen1, 0, 0},
	OpUnicode:         {"UNICODE", argLine, 0, 0},
	OpBinUnicode:      {"BINUNICODE", argLen4, 0, 0},
	OpAppend:          {"APPEND", argNone, 0, 0},
	OpBuild:           {"BUILD", argNone, 0, 0},
	OpGlobal:          {"GLOBAL", argLines2, 0, 0},
	OpDict:            {"DICT", argNone, 0, 0},
	OpEmptyDict:       {"EMPTY_DICT", argNone, 0, 0},
	OpAppends:         {"APPENDS", argNone, 0, 0},
	OpGet:             {"GET", argLine, 0, 0},
	OpBinGet:          {"BINGET", argFixed, 1, 0},
	OpInst:            {"INST", argLines2, 0, 0},
	OpLongBinGet:      {"LONG_BINGET", argFixed, 4, 0},
	OpList:            {"LIST", argNone, 0, 0},
	OpEmptyList:       {"EMPTY_LIST", argNone, 0, 0},
	OpObj:             {"OBJ", argNone, 0, 0},
	OpPut:             {"PUT", argLine, 0, 0},
	OpBinPut:          {"BINPUT", argFixed, 1, 0},
	OpLongBinPut:      {"LONG_BINPUT", argFixed, 4, 0},
	OpSetItem:         {"SETITEM", argNone, 0, 0},
	OpTuple:           {"TUPLE", argNone, 0, 0},
	OpEmptyTuple:      {"EMPTY_TUPLE", argNone, 0, 0},
	OpSetItems:        {"SETITEMS", argNone, 0, 0},
	OpBinFloat:        {"BINFLOAT", argFixed, 8, 0},
	OpProto:           {"PROTO", argFixed, 1, 0},
	OpNewObj:          {"NEWOBJ", argNone, 0, 0},
	OpExt1:            {"EXT1", argFixed, 1, 0},
	OpExt2:            {"EXT2", argFixed, 2, 0},
	OpExt4:            {"EXT4", argFixed, 4, 0},
	OpTuple1:          {"TUPLE1", argNone, 0, 0},
	OpTuple2:          {"TUPLE2", argNone, 0, 0},
	OpTuple3:          {"TUPLE3", argNone, 0, 0},
	OpNewTrue:         {"NEWTRUE", argNone, 0, 0},
	OpNewFalse:        {"NEWFALSE", argNone, 0, 0},
	OpLong1:           {"LONG1", argLen1, 0, 0},
	OpLong4:           {"LONG4", argLen4, 0, 0},
	OpBinBytes:        {"BINBYTES", argLen4, 0, 0},
	OpShortBinBytes:   {"SHORT_BINBYTES", argLen1, 0, 0},
	OpShortBinUnicode: {"SHORT_BINUNICODE", argLen1, 0, 0},
	OpBinUnicode8:     {"BINUNICODE8", argLen8, 0, 0},
	OpBinBytes8:       {"BINBYTES8", argLen8, 0, 0},
	OpEmptySet:        {"EMPTY_SET", argNone, 0, 0},
	OpAddItems:        {"ADDITEMS", argNone, 0, 0},
	OpFrozenSet:       {"FROZENSET", argNone, 0, 0},
	OpNewObjEx:        {"NEWOBJ_EX", argNone, 0, 0},
	OpStackGlobal:     {"STACK_GLOBAL", argNone, 0, 0},
	OpMemoize:         {"MEMOIZE", argNone, 0, 0},
	OpFrame:           {"FRAME", argFixed, 8, 0},
	OpByteArray8:      {"BYTEARRAY8", argLen8, 0, 0},
	OpNextBuffer:      {"NEXT_BUFFER", argNone, 0, 0},
	OpReadonlyBuffer:  {"READONLY_BUFFER", argNone, 0, 0},
}

func init() {
	for c := range opcodes {
		opcodes[c].code = byte(c)
	}
}

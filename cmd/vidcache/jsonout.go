package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"unicode/utf8"
)

// writeJSON writes v as one JSON value and a newline, as json.Encoder does,
// except for strings that are not valid UTF-8: file names are bytes, and
// encoding/json would turn every invalid byte into U+FFFD, so two files
// could print the same path and "cache" could name a file that does not
// exist. Such bytes are written with Python's surrogateescape convention
// instead: byte 0xXX (0x80-0xFF) that is not part of valid UTF-8 becomes
// the escape \udcXX. In Python, json.loads then gives exactly the str that
// os.fsdecode gives for the name, and os.fsencode turns it back into the
// original bytes; other JSON readers see a lone surrogate.
//
// (How: such strings are rewritten, in place, with each bad byte as a rune of
// the last 128 code points of plane 16's private use area (U+10FF80 + b -
// 0x80), which encoding/json writes as is, and those runes are then replaced
// by the escapes in the output. A name that really contains one of those 128
// private-use characters would be misread; none is assigned.)
func writeJSON(w io.Writer, v any) error {
	escapeInvalid(reflect.ValueOf(v))
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(restoreEscapes(b), '\n')
	_, err = w.Write(b)
	return err
}

const sentinelBase = 0x10FF80 // + (b - 0x80)

// escapeString rewrites s's invalid bytes as sentinel runes; ok reports a
// change.
func escapeString(s string) (string, bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	var b []byte
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = utf8.AppendRune(b, rune(sentinelBase+int(s[i])-0x80))
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b), true
}

// escapeInvalid walks v (pointers, interfaces, structs, slices, arrays,
// maps) and rewrites every settable string that is not valid UTF-8.
func escapeInvalid(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			e := v.Elem()
			if v.Kind() == reflect.Interface && e.Kind() == reflect.String {
				if s, ok := escapeString(e.String()); ok && v.CanSet() {
					v.Set(reflect.ValueOf(s).Convert(e.Type()))
				}
				return
			}
			escapeInvalid(e)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				escapeInvalid(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return // []byte is base64
		}
		for i := 0; i < v.Len(); i++ {
			escapeInvalid(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		iter := v.MapRange()
		type kv struct{ k, v reflect.Value }
		var changed []kv
		for iter.Next() {
			k, val := iter.Key(), iter.Value()
			nk := k
			if k.Kind() == reflect.String {
				if s, ok := escapeString(k.String()); ok {
					nk = reflect.ValueOf(s).Convert(k.Type())
				}
			}
			nv := reflect.New(val.Type()).Elem()
			nv.Set(val)
			escapeInvalid(nv)
			changed = append(changed, kv{k, reflect.Value{}}, kv{nk, nv})
		}
		for i := 0; i < len(changed); i += 2 {
			v.SetMapIndex(changed[i].k, reflect.Value{})
		}
		for i := 1; i < len(changed); i += 2 {
			v.SetMapIndex(changed[i].k, changed[i].v)
		}
	case reflect.String:
		if s, ok := escapeString(v.String()); ok && v.CanSet() {
			v.SetString(s)
		}
	}
}

// restoreEscapes replaces the sentinel runes in marshaled JSON by \udcXX.
func restoreEscapes(b []byte) []byte {
	var lead [utf8.UTFMax]byte
	n := utf8.EncodeRune(lead[:], sentinelBase)
	prefix := lead[:2] // every sentinel rune shares its first two bytes
	if !bytes.Contains(b, prefix) {
		return b
	}
	var out []byte
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if size == n && r >= sentinelBase && r < sentinelBase+0x80 {
			out = fmt.Appendf(out, `\udc%02x`, 0x80+int(r-sentinelBase))
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

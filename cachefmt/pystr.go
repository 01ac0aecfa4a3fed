package cachefmt

import (
	"unicode/utf8"
)

// toPython returns the UTF-8 bytes (with surrogates passed through, as
// Python's "surrogatepass" writes them) of the str Python sees for the byte
// string s: os.walk decodes file names with "surrogateescape", turning each
// byte that is not valid UTF-8 into the lone surrogate U+DC00+byte. torch's
// unpickler decodes with "surrogatepass", so the loaded path equals the one
// torchvision builds from the same folder.
func toPython(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			c := 0xDC00 + rune(s[i])
			b = append(b, 0xE0|byte(c>>12), 0x80|byte(c>>6)&0x3F, 0x80|byte(c)&0x3F)
			i++
			continue
		}
		b = append(b, s[i:i+n]...)
		i += n
	}
	return string(b)
}

// fromPython undoes toPython: escaped surrogates U+DC80..U+DCFF become the
// bytes they stand for.
func fromPython(s string) string {
	k := 0
	for ; k+2 < len(s); k++ {
		if s[k] == 0xED && s[k+1] >= 0xB2 && s[k+1] <= 0xB3 {
			break
		}
	}
	if k+2 >= len(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if i+2 < len(s) && s[i] == 0xED && (s[i+1] == 0xB2 || s[i+1] == 0xB3) && s[i+2]&0xC0 == 0x80 {
			c := rune(s[i]&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
			if c >= 0xDC80 && c <= 0xDCFF {
				b = append(b, byte(c-0xDC00))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
		i++
	}
	return string(b)
}

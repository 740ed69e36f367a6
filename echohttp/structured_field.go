package echohttp

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file parses a structured-field Dictionary (RFC 8941 section 4.2,
// with the Date and Display String items of its successor RFC 9651) as the
// Priority field of RFC 9218 is defined. Every member is validated in full,
// because one malformed member makes the whole field invalid; only the
// type and value of Integer and Boolean items are kept, since those are all
// that Priority's u and i can be.

// itemKind is the type of a bare item.
type itemKind uint8

const (
	kindInteger itemKind = iota
	kindDecimal
	kindString
	kindToken
	kindBytes
	kindBoolean
	kindDate
	kindDisplayString
)

// member is a Dictionary member: an Item or, if inner, an Inner List (whose
// items are validated and dropped). Parameters are validated and dropped.
type member struct {
	inner   bool
	kind    itemKind
	integer int64 // for kindInteger
	boolean bool  // for kindBoolean
}

// sfParser holds the unparsed rest of the input.
type sfParser struct {
	s string
}

func (p *sfParser) peek() (byte, bool) {
	if p.s == "" {
		return 0, false
	}
	return p.s[0], true
}

func (p *sfParser) skipSP() {
	for p.s != "" && p.s[0] == ' ' {
		p.s = p.s[1:]
	}
}

func (p *sfParser) skipOWS() {
	for p.s != "" && (p.s[0] == ' ' || p.s[0] == '\t') {
		p.s = p.s[1:]
	}
}

// parseDictionary parses a whole field value; ok is false if it is not a
// valid Dictionary. A key that appears twice keeps its last value.
func parseDictionary(s string) (dict map[string]member, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return nil, false // not ASCII
		}
	}
	p := &sfParser{s: s}
	p.skipSP()
	dict = map[string]member{}
	for p.s != "" {
		key, ok := p.key()
		if !ok {
			return nil, false
		}
		var m member
		if c, _ := p.peek(); c == '=' {
			p.s = p.s[1:]
			if m, ok = p.itemOrInnerList(); !ok {
				return nil, false
			}
		} else {
			// A bare key is the Boolean true, with parameters.
			m = member{kind: kindBoolean, boolean: true}
			if !p.parameters() {
				return nil, false
			}
		}
		dict[key] = m
		p.skipOWS()
		if p.s == "" {
			return dict, true
		}
		if p.s[0] != ',' {
			return nil, false
		}
		p.s = p.s[1:]
		p.skipOWS()
		if p.s == "" {
			return nil, false // trailing comma
		}
	}
	// Only an empty (or all-SP) value gets here: an empty Dictionary.
	return dict, true
}

func isLCAlpha(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }

// isTChar reports whether c is an RFC 9110 tchar.
func isTChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func (p *sfParser) key() (string, bool) {
	c, ok := p.peek()
	if !ok || !isLCAlpha(c) && c != '*' {
		return "", false
	}
	i := 1
	for ; i < len(p.s); i++ {
		c := p.s[i]
		if !isLCAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*' {
			break
		}
	}
	k := p.s[:i]
	p.s = p.s[i:]
	return k, true
}

func (p *sfParser) itemOrInnerList() (member, bool) {
	if c, _ := p.peek(); c == '(' {
		return member{inner: true}, p.innerList()
	}
	return p.item()
}

func (p *sfParser) innerList() bool {
	p.s = p.s[1:] // '('
	for p.s != "" {
		p.skipSP()
		if c, _ := p.peek(); c == ')' {
			p.s = p.s[1:]
			return p.parameters()
		}
		if _, ok := p.item(); !ok {
			return false
		}
		if c, _ := p.peek(); c != ' ' && c != ')' {
			return false
		}
	}
	return false // no closing parenthesis
}

func (p *sfParser) item() (member, bool) {
	m, ok := p.bareItem()
	return m, ok && p.parameters()
}

// parameters parses ";key[=bare-item]" pairs; their values are dropped.
func (p *sfParser) parameters() bool {
	for {
		if c, _ := p.peek(); c != ';' {
			return true
		}
		p.s = p.s[1:]
		p.skipSP()
		if _, ok := p.key(); !ok {
			return false
		}
		if c, _ := p.peek(); c == '=' {
			p.s = p.s[1:]
			if _, ok := p.bareItem(); !ok {
				return false
			}
		}
	}
}

func (p *sfParser) bareItem() (member, bool) {
	c, ok := p.peek()
	if !ok {
		return member{}, false
	}
	switch {
	case c == '-' || isDigit(c):
		return p.number()
	case c == '"':
		return member{kind: kindString}, p.str()
	case c == '*' || isAlpha(c):
		p.token()
		return member{kind: kindToken}, true
	case c == ':':
		return member{kind: kindBytes}, p.byteSequence()
	case c == '?':
		return p.boolean()
	case c == '@':
		p.s = p.s[1:]
		m, ok := p.number()
		return member{kind: kindDate}, ok && m.kind == kindInteger
	case c == '%':
		return member{kind: kindDisplayString}, p.displayString()
	}
	return member{}, false
}

// number parses an Integer (at most 15 digits) or a Decimal (at most 12
// integer and 3 fraction digits).
func (p *sfParser) number() (member, bool) {
	i := 0
	if p.s != "" && p.s[0] == '-' {
		i++
	}
	if i == len(p.s) || !isDigit(p.s[i]) {
		return member{}, false
	}
	start, decimal := i, false
	for ; i < len(p.s); i++ {
		c := p.s[i]
		switch {
		case isDigit(c):
		case c == '.' && !decimal:
			if i-start > 12 {
				return member{}, false
			}
			decimal = true
			continue
		default:
			goto end
		}
		if !decimal && i-start+1 > 15 || decimal && i-start+1 > 16 {
			return member{}, false
		}
	}
end:
	num := p.s[:i]
	p.s = p.s[i:]
	if !decimal {
		n, err := strconv.ParseInt(num, 10, 64)
		return member{kind: kindInteger, integer: n}, err == nil
	}
	if num[len(num)-1] == '.' {
		return member{}, false
	}
	dot := 0
	for num[dot] != '.' {
		dot++
	}
	return member{kind: kindDecimal}, len(num)-dot-1 <= 3
}

func (p *sfParser) str() bool {
	for i := 1; i < len(p.s); i++ {
		switch c := p.s[i]; {
		case c == '\\':
			i++
			if i == len(p.s) || p.s[i] != '"' && p.s[i] != '\\' {
				return false
			}
		case c == '"':
			p.s = p.s[i+1:]
			return true
		case c < 0x20 || c > 0x7e:
			return false
		}
	}
	return false // no closing quote
}

func (p *sfParser) token() {
	i := 1
	for ; i < len(p.s) && (isTChar(p.s[i]) || p.s[i] == ':' || p.s[i] == '/'); i++ {
	}
	p.s = p.s[i:]
}

func (p *sfParser) byteSequence() bool {
	for i := 1; i < len(p.s); i++ {
		c := p.s[i]
		if c == ':' {
			// RFC 8941 4.2.7: do not insist on the '=' padding.
			_, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(p.s[1:i], "="))
			p.s = p.s[i+1:]
			return err == nil
		}
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '=' {
			return false
		}
	}
	return false // no closing colon
}

func (p *sfParser) boolean() (member, bool) {
	if len(p.s) < 2 || p.s[1] != '0' && p.s[1] != '1' {
		return member{}, false
	}
	b := p.s[1] == '1'
	p.s = p.s[2:]
	return member{kind: kindBoolean, boolean: b}, true
}

// displayString parses %"..." whose percent-encoded bytes are UTF-8.
func (p *sfParser) displayString() bool {
	if len(p.s) < 2 || p.s[1] != '"' {
		return false
	}
	var b []byte
	isHex := func(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' }
	for i := 2; i < len(p.s); i++ {
		switch c := p.s[i]; {
		case c == '%':
			if i+2 >= len(p.s) || !isHex(p.s[i+1]) || !isHex(p.s[i+2]) {
				return false
			}
			v, _ := strconv.ParseUint(p.s[i+1:i+3], 16, 8)
			b = append(b, byte(v))
			i += 2
		case c == '"':
			p.s = p.s[i+1:]
			return utf8.Valid(b)
		case c < 0x20 || c > 0x7e:
			return false
		default:
			b = append(b, c)
		}
	}
	return false // no closing quote
}

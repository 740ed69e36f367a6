package echohttp

import (
	"testing"

	"github.com/echo-scheduler/echo"
)

func TestParsePriorityReadsEveryRFC9218Form(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		u      int
		i      bool
	}{
		{"no field", nil, 3, false},
		{"empty field", []string{""}, 3, false},
		{"blank field", []string{"  "}, 3, false},
		{"u=0", []string{"u=0"}, 0, false},
		{"u=1", []string{"u=1"}, 1, false},
		{"u=2", []string{"u=2"}, 2, false},
		{"u=3", []string{"u=3"}, 3, false},
		{"u=4", []string{"u=4"}, 4, false},
		{"u=5", []string{"u=5"}, 5, false},
		{"u=6", []string{"u=6"}, 6, false},
		{"u=7", []string{"u=7"}, 7, false},
		{"i alone", []string{"i"}, 3, true},
		{"i=?1", []string{"i=?1"}, 3, true},
		{"i=?0", []string{"i=?0"}, 3, false},
		{"u and i", []string{"u=1, i"}, 1, true},
		{"i before u", []string{"i, u=2"}, 2, true},
		{"no space after comma", []string{"u=1,i"}, 1, true},
		{"spaces and tabs around comma", []string{"u=1 \t,\t i"}, 1, true},
		{"leading and trailing spaces", []string{"  u=4 , i  "}, 4, true},
		{"trailing tab", []string{"u=4\t"}, 4, false},
		{"parameters on u", []string{"u=1;foo=bar"}, 1, false},
		{"parameters on both", []string{"u=2;a;b=?0;c=\"x\", i;q=1.5"}, 2, true},
		{"parameter with space after semicolon", []string{"u=2; a=1"}, 2, false},
		{"later u wins", []string{"u=1, u=6"}, 6, false},
		{"later i wins", []string{"i, i=?0"}, 3, false},
		{"two lines", []string{"u=1", "i"}, 1, true},
		{"two lines, later u wins", []string{"u=1", "u=5"}, 5, false},
		{"empty line among lines", []string{"", "u=2", " "}, 2, false},
		{"unknown keys of every type", []string{
			`u=2, s="str", t=tok/en:x, b=:aGVsbG8=:, nb=:aGVsbG8:, f=?0, n=-15, d=1.125, ` +
				`dt=@1659578233, ds=%"f%c3%bc", l=(1 "a" b;p), e=(), es=(  ), *k=1, k_-.*9=1`}, 2, false},
		{"15-digit integer elsewhere", []string{"x=123456789012345, u=4"}, 4, false},
		{"escaped quote in a string", []string{`x="a\"b\\", u=0`}, 0, false},
		{"inner list with parameters", []string{"x=(1 2);p=1, u=6"}, 6, false},

		// Valid fields whose u or i is not usable: the member is ignored.
		{"u out of range high", []string{"u=8"}, 3, false},
		{"u negative", []string{"u=-1, i"}, 3, true},
		{"u decimal", []string{"u=1.0"}, 3, false},
		{"u string", []string{`u="1"`}, 3, false},
		{"u token", []string{"u=a"}, 3, false},
		{"u boolean", []string{"u=?1"}, 3, false},
		{"u bare (true)", []string{"u"}, 3, false},
		{"u inner list", []string{"u=(1)"}, 3, false},
		{"u date", []string{"u=@1"}, 3, false},
		{"i integer", []string{"u=2, i=1"}, 2, false},
		{"i token", []string{"u=2, i=yes"}, 2, false},
		{"key names are case-sensitive", []string{"u=3, U=1"}, 3, false},

		// Invalid fields: ignored as a whole.
		{"trailing comma", []string{"u=1,"}, 3, false},
		{"double comma", []string{"u=1,,i"}, 3, false},
		{"missing comma", []string{"u=1 i"}, 3, false},
		{"uppercase key", []string{"U=1"}, 3, false},
		{"key starts with digit", []string{"1u=1"}, 3, false},
		{"double equals", []string{"u==1"}, 3, false},
		{"empty value", []string{"u="}, 3, false},
		{"empty parameter", []string{"u=1;"}, 3, false},
		{"space before parameter", []string{"u=1 ;a"}, 3, false},
		{"bad boolean", []string{"u=1, i=?2"}, 3, false},
		{"16-digit integer", []string{"u=1, x=1234567890123456"}, 3, false},
		{"13 integer digits in a decimal", []string{"u=1, x=1234567890123.5"}, 3, false},
		{"4 fraction digits", []string{"u=1, x=1.2345"}, 3, false},
		{"decimal ending in a dot", []string{"u=1, x=1."}, 3, false},
		{"lone minus", []string{"u=1, x=-"}, 3, false},
		{"unterminated string", []string{`u=1, x="abc`}, 3, false},
		{"bad escape in a string", []string{`u=1, x="a\b"`}, 3, false},
		{"control character in a string", []string{"u=1, x=\"a\x01\""}, 3, false},
		{"bad base64", []string{"u=1, x=:not base64!:"}, 3, false},
		{"unterminated byte sequence", []string{"u=1, x=:aGVsbG8="}, 3, false},
		{"decimal date", []string{"u=1, x=@1.5"}, 3, false},
		{"uppercase hex in a display string", []string{`u=1, x=%"%C3%BC"`}, 3, false},
		{"display string not UTF-8", []string{`u=1, x=%"%ff"`}, 3, false},
		{"comma in an inner list", []string{"u=1, x=(1,2)"}, 3, false},
		{"unterminated inner list", []string{"u=1, x=(1 2"}, 3, false},
		{"non-ASCII", []string{"u=1, é"}, 3, false},
		{"leading tab", []string{"\tu=1"}, 3, false},
		{"one bad line spoils the field", []string{"u=1", "garbage("}, 3, false},
		{"list syntax", []string{"(u=1)"}, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, i := parsePriority(tt.fields)
			if u != tt.u || i != tt.i {
				t.Errorf("parsePriority(%q) = u %d, i %v; want u %d, i %v", tt.fields, u, i, tt.u, tt.i)
			}
		})
	}
}

func TestParsePriorityMapsUrgencyToPriority(t *testing.T) {
	want := []echo.Priority{echo.High, echo.High, echo.High, echo.Normal, echo.Low, echo.Low, echo.Low, echo.Low}
	for u, p := range want {
		if got := ParsePriority("u=" + string(rune('0'+u))); got != p {
			t.Errorf("ParsePriority(u=%d) = %v; want %v", u, got, p)
		}
	}
	if got := ParsePriority(); got != echo.Normal {
		t.Errorf("ParsePriority() = %v; want Normal (RFC 9218's default urgency 3)", got)
	}
	if got := ParsePriority("u=9"); got != echo.Normal {
		t.Errorf("ParsePriority(u=9) = %v; want Normal (out of range is ignored)", got)
	}
}

func TestPriorityFieldRoundTrips(t *testing.T) {
	for _, p := range []echo.Priority{echo.High, echo.Normal, echo.Low} {
		f := PriorityField(p)
		var got echo.Priority
		if f == "" {
			got = ParsePriority()
		} else {
			got = ParsePriority(f)
		}
		if got != p {
			t.Errorf("ParsePriority(PriorityField(%v) = %q) = %v", p, f, got)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("PriorityField(7) did not panic")
		}
	}()
	PriorityField(7)
}

func FuzzParsePriority(f *testing.F) {
	for _, s := range []string{"u=1, i", "u=7;a=b", `x=("a" 1.5);p, u=0`, "i=?0", "u=1,", ":aGk=:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, _ := parsePriority([]string{s})
		if u < 0 || u > 7 {
			t.Fatalf("parsePriority(%q): urgency %d out of 0..7", s, u)
		}
	})
}

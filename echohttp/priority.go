package echohttp

import (
	"strings"

	"github.com/echo-scheduler/echo"
)

// defaultUrgency is RFC 9218's urgency of a request that says none.
const defaultUrgency = 3

// ParsePriority returns the priority that the lines of an RFC 9218 Priority
// field ask for: the urgency u mapped as the package documentation says
// (0-2 High, 3 Normal, 4-7 Low). Pass every line of the field, as
// r.Header.Values("Priority") returns them; they are combined as RFC 8941
// says. A field that is not a valid structured-field Dictionary is ignored
// as a whole, and a u that is not an Integer from 0 to 7 is ignored, so in
// both cases, and without a field, the result is RFC 9218's default urgency
// 3, [echo.Normal]. The incremental flag i does not affect the priority.
//
// ParsePriority is what [Handler] uses by default; it is exported for
// adapters to other protocols (see the package documentation).
func ParsePriority(fields ...string) echo.Priority {
	u, _ := parsePriority(fields)
	return priorityOfUrgency(u)
}

// PriorityField returns the Priority field value that asks for p: "u=1" for
// High, "u=5" for Low (the middle of their ranges), and "" for Normal,
// whose urgency 3 is RFC 9218's default, so that no field is needed. It
// panics if p is not High, Normal or Low.
func PriorityField(p echo.Priority) string {
	switch p {
	case echo.High:
		return "u=1"
	case echo.Normal:
		return ""
	case echo.Low:
		return "u=5"
	}
	panic("echohttp: PriorityField called with unknown priority " + p.String() + "; use echo.High, echo.Normal or echo.Low")
}

func priorityOfUrgency(u int) echo.Priority {
	switch {
	case u < defaultUrgency:
		return echo.High
	case u == defaultUrgency:
		return echo.Normal
	default:
		return echo.Low
	}
}

// parsePriority returns the urgency and the incremental flag of RFC 9218
// Priority field lines, with the defaults (3, false) for whatever is absent,
// invalid or out of range.
func parsePriority(fields []string) (urgency int, incremental bool) {
	urgency = defaultUrgency
	// RFC 8941 4.2: the lines of a field are combined, comma-separated,
	// into one value. An empty line adds no member (RFC 9110 5.3), and
	// must not turn into an empty member between two commas.
	var lines []string
	for _, f := range fields {
		if strings.Trim(f, " \t") != "" {
			lines = append(lines, f)
		}
	}
	if len(lines) == 0 {
		return urgency, false
	}
	dict, ok := parseDictionary(strings.Join(lines, ","))
	if !ok {
		return urgency, false
	}
	if m, ok := dict["u"]; ok && !m.inner && m.kind == kindInteger && m.integer >= 0 && m.integer <= 7 {
		urgency = int(m.integer)
	}
	if m, ok := dict["i"]; ok && !m.inner && m.kind == kindBoolean {
		incremental = m.boolean
	}
	return urgency, incremental
}

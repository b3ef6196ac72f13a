package console

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A Filter is a parsed filter expression: a subset of X-Ray's filter
// expression language, evaluated against one stored trace.
//
//	service("orders")                 any segment or inferred node named orders
//	annotation.order_id = "42"        any (sub)segment annotation (annotation[key] too)
//	http.status = 500                 the root segment's response status
//	http.url CONTAINS "checkout"      also http.method, http.useragent; BEGINSWITH, ENDSWITH
//	responsetime > 0.5                the root segment's duration, in seconds
//	duration > 1                      first start to last end of the trace
//	fault  error  throttle  ok        any (sub)segment flagged; ok: none flagged
//	user = "alice"                    any segment's user
//	NOT, AND, OR (also !, &&, ||), parentheses
type Filter struct {
	root node
	src  string
}

// SyntaxError is a filter expression the parser rejects, with the byte
// offset (0-based) where the problem was found.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter expression: %s at position %d", e.Msg, e.Pos+1)
}

// maxFilterLen and maxFilterDepth bound the work a filter can cause.
const (
	maxFilterLen   = 4096
	maxFilterDepth = 64
)

// ParseFilter parses src. An empty (or blank) expression matches every trace.
func ParseFilter(src string) (*Filter, error) {
	if len(src) > maxFilterLen {
		return nil, &SyntaxError{Pos: maxFilterLen, Msg: fmt.Sprintf("expression longer than %d bytes", maxFilterLen)}
	}
	p := &parser{src: src}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if len(p.toks) == 1 { // only EOF
		return &Filter{src: src}, nil
	}
	n, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "unexpected "+t.describe()+"; expected AND, OR or the end")
	}
	return &Filter{root: n, src: src}, nil
}

// String returns the source expression.
func (f *Filter) String() string { return f.src }

// Match reports whether t satisfies the filter.
func (f *Filter) Match(t *trace) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.eval(t)
}

// ---- lexer

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tOp // = != < <= > >=
	tLParen
	tRParen
	tLBracket
	tRBracket
	tAnd
	tOr
	tNot
)

type token struct {
	kind tokKind
	text string // identifiers as written; strings unquoted; operators
	num  float64
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return strconv.Quote(t.text)
	default:
		return strconv.Quote(t.text)
	}
}

type parser struct {
	src  string
	toks []token
	i    int
}

func isIdentRune(r rune, first bool) bool {
	return r == '_' || unicode.IsLetter(r) || (!first && (unicode.IsDigit(r) || r == '.' || r == '-'))
}

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.toks = append(p.toks, token{kind: tLParen, text: "(", pos: i})
			i++
		case c == ')':
			p.toks = append(p.toks, token{kind: tRParen, text: ")", pos: i})
			i++
		case c == '[':
			p.toks = append(p.toks, token{kind: tLBracket, text: "[", pos: i})
			i++
		case c == ']':
			p.toks = append(p.toks, token{kind: tRBracket, text: "]", pos: i})
			i++
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return &SyntaxError{Pos: i, Msg: "unterminated string"}
			}
			p.toks = append(p.toks, token{kind: tString, text: b.String(), pos: i})
			i = j + 1
		case c == '=':
			p.toks = append(p.toks, token{kind: tOp, text: "=", pos: i})
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			p.toks = append(p.toks, token{kind: tOp, text: "!=", pos: i})
			i += 2
		case c == '!':
			p.toks = append(p.toks, token{kind: tNot, text: "!", pos: i})
			i++
		case c == '<' || c == '>':
			op := string(c)
			if i+1 < len(s) && s[i+1] == '=' {
				op += "="
			}
			p.toks = append(p.toks, token{kind: tOp, text: op, pos: i})
			i += len(op)
		case c == '&' && i+1 < len(s) && s[i+1] == '&':
			p.toks = append(p.toks, token{kind: tAnd, text: "&&", pos: i})
			i += 2
		case c == '|' && i+1 < len(s) && s[i+1] == '|':
			p.toks = append(p.toks, token{kind: tOr, text: "||", pos: i})
			i += 2
		case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				((s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			f, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return &SyntaxError{Pos: i, Msg: fmt.Sprintf("bad number %q", s[i:j])}
			}
			p.toks = append(p.toks, token{kind: tNumber, text: s[i:j], num: f, pos: i})
			i = j
		default:
			r, size := rune(c), 1
			if c >= 0x80 {
				r, size = decodeRune(s[i:])
			}
			if !isIdentRune(r, true) {
				return &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", r)}
			}
			j := i + size
			for j < len(s) {
				r, size := rune(s[j]), 1
				if s[j] >= 0x80 {
					r, size = decodeRune(s[j:])
				}
				if !isIdentRune(r, false) {
					break
				}
				j += size
			}
			w := s[i:j]
			switch strings.ToUpper(w) {
			case "AND":
				p.toks = append(p.toks, token{kind: tAnd, text: w, pos: i})
			case "OR":
				p.toks = append(p.toks, token{kind: tOr, text: w, pos: i})
			case "NOT":
				p.toks = append(p.toks, token{kind: tNot, text: w, pos: i})
			case "CONTAINS", "BEGINSWITH", "ENDSWITH":
				p.toks = append(p.toks, token{kind: tOp, text: strings.ToUpper(w), pos: i})
			default:
				p.toks = append(p.toks, token{kind: tIdent, text: w, pos: i})
			}
			i = j
		}
	}
	p.toks = append(p.toks, token{kind: tEOF, pos: len(s)})
	return nil
}

func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }

// ---- parser

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, msg string) error { return &SyntaxError{Pos: t.pos, Msg: msg} }

func (p *parser) parseOr(depth int) (node, error) {
	if depth > maxFilterDepth {
		return nil, p.errAt(p.peek(), "expression nested too deeply")
	}
	l, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		p.next()
		r, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) parseAnd(depth int) (node, error) {
	l, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd {
		p.next()
		r, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) parseUnary(depth int) (node, error) {
	if depth > maxFilterDepth {
		return nil, p.errAt(p.peek(), "expression nested too deeply")
	}
	if p.peek().kind == tNot {
		p.next()
		n, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.parsePrimary(depth)
}

func (p *parser) parsePrimary(depth int) (node, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		n, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errAt(c, "expected ) to close the ( at position "+strconv.Itoa(t.pos+1)+", found "+c.describe())
		}
		return n, nil
	case tIdent:
	case tEOF:
		return nil, p.errAt(t, "expression ends too early; expected a condition")
	default:
		return nil, p.errAt(t, "unexpected "+t.describe()+"; expected a condition such as fault, service(\"name\") or http.status = 500")
	}
	word := strings.ToLower(t.text)
	switch word {
	case "fault":
		return flagNode{fFault}, nil
	case "error":
		return flagNode{fError}, nil
	case "throttle":
		return flagNode{fThrottle}, nil
	case "ok":
		return okNode{}, nil
	case "service":
		if c := p.next(); c.kind != tLParen {
			return nil, p.errAt(c, `expected ( after service, as in service("orders")`)
		}
		s := p.next()
		if s.kind != tString {
			return nil, p.errAt(s, `expected a quoted service name, as in service("orders")`)
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errAt(c, "expected ) after the service name")
		}
		return serviceNode{s.text}, nil
	case "annotation":
		// annotation[key]
		if p.peek().kind != tLBracket {
			return nil, p.errAt(p.peek(), "expected annotation.key or annotation[key]")
		}
		p.next()
		k := p.next()
		if k.kind != tIdent && k.kind != tString {
			return nil, p.errAt(k, "expected an annotation key")
		}
		if c := p.next(); c.kind != tRBracket {
			return nil, p.errAt(c, "expected ] after the annotation key")
		}
		return p.parseComparison(t, fieldAnnotation, k.text)
	}
	switch {
	case strings.HasPrefix(word, "annotation."):
		key := t.text[len("annotation."):]
		if key == "" {
			return nil, p.errAt(t, "annotation. needs a key, as in annotation.order_id")
		}
		return p.parseComparison(t, fieldAnnotation, key)
	case word == "responsetime":
		return p.parseComparison(t, fieldResponseTime, "")
	case word == "duration":
		return p.parseComparison(t, fieldDuration, "")
	case word == "http.status":
		return p.parseComparison(t, fieldHTTPStatus, "")
	case word == "http.url":
		return p.parseComparison(t, fieldHTTPURL, "")
	case word == "http.method":
		return p.parseComparison(t, fieldHTTPMethod, "")
	case word == "user":
		return p.parseComparison(t, fieldUser, "")
	}
	return nil, p.errAt(t, fmt.Sprintf("unknown keyword %q (known: service(), annotation.KEY, http.status, http.url, http.method, responsetime, duration, user, fault, error, throttle, ok)", t.text))
}

type field uint8

const (
	fieldAnnotation field = iota
	fieldResponseTime
	fieldDuration
	fieldHTTPStatus
	fieldHTTPURL
	fieldHTTPMethod
	fieldUser
)

func (f field) numeric() bool {
	return f == fieldResponseTime || f == fieldDuration || f == fieldHTTPStatus
}

func (p *parser) parseComparison(name token, f field, key string) (node, error) {
	op := p.next()
	if op.kind != tOp {
		return nil, p.errAt(op, fmt.Sprintf("expected an operator (=, !=, <, <=, >, >=, CONTAINS, BEGINSWITH, ENDSWITH) after %s, found %s", name.text, op.describe()))
	}
	v := p.next()
	c := cmpNode{field: f, key: key, op: op.text}
	switch v.kind {
	case tString:
		c.str, c.isStr = v.text, true
	case tNumber:
		c.num = v.num
	case tIdent:
		switch strings.ToLower(v.text) {
		case "true":
			c.isBool, c.b = true, true
		case "false":
			c.isBool = true
		default:
			return nil, p.errAt(v, fmt.Sprintf("expected a value (a quoted string, a number, true or false), found %s", v.describe()))
		}
	default:
		return nil, p.errAt(v, fmt.Sprintf("expected a value after %s, found %s", op.text, v.describe()))
	}
	strOp := op.text == "CONTAINS" || op.text == "BEGINSWITH" || op.text == "ENDSWITH"
	if strOp && !c.isStr {
		return nil, p.errAt(v, op.text+" needs a quoted string")
	}
	if f.numeric() && (c.isStr || c.isBool) {
		return nil, p.errAt(v, name.text+" is a number; compare it with a number")
	}
	if (f == fieldHTTPURL || f == fieldHTTPMethod || f == fieldUser) && !c.isStr {
		return nil, p.errAt(v, name.text+" is text; compare it with a quoted string")
	}
	if (op.text == "<" || op.text == "<=" || op.text == ">" || op.text == ">=") && (c.isStr || c.isBool) {
		return nil, p.errAt(op, op.text+" needs a number")
	}
	return c, nil
}

// ---- evaluation

type node interface{ eval(t *trace) bool }

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ n node }
type flagNode struct{ f docFlags }
type okNode struct{}
type serviceNode struct{ name string }

func (n andNode) eval(t *trace) bool { return n.l.eval(t) && n.r.eval(t) }
func (n orNode) eval(t *trace) bool  { return n.l.eval(t) || n.r.eval(t) }
func (n notNode) eval(t *trace) bool { return !n.n.eval(t) }
func (n flagNode) eval(t *trace) bool {
	return t.flags&n.f != 0
}
func (okNode) eval(t *trace) bool { return t.flags == 0 }
func (n serviceNode) eval(t *trace) bool {
	for _, d := range t.docs {
		for i := range d.spans {
			s := &d.spans[i]
			if (s.seg || s.namespace == "aws" || s.namespace == "remote") && s.name == n.name {
				return true
			}
		}
	}
	return false
}

type cmpNode struct {
	field  field
	key    string
	op     string
	str    string
	num    float64
	b      bool
	isStr  bool
	isBool bool
}

func (c cmpNode) eval(t *trace) bool {
	switch c.field {
	case fieldAnnotation:
		for _, d := range t.docs {
			for i := range d.spans {
				if v, ok := d.spans[i].annotations[c.key]; ok && c.cmpAny(v) {
					return true
				}
			}
		}
		return false
	case fieldUser:
		for _, d := range t.docs {
			for i := range d.spans {
				if d.spans[i].user != "" && c.cmpStr(d.spans[i].user) {
					return true
				}
			}
		}
		return false
	case fieldDuration:
		return c.cmpNum(t.end - t.start)
	}
	r := t.root()
	if r == nil {
		return false
	}
	switch c.field {
	case fieldResponseTime:
		return c.cmpNum(r.end - r.start)
	case fieldHTTPStatus:
		return r.status != 0 && c.cmpNum(float64(r.status))
	case fieldHTTPURL:
		return c.cmpStr(r.url)
	case fieldHTTPMethod:
		return c.cmpStr(r.method)
	}
	return false
}

func (c cmpNode) cmpAny(v any) bool {
	switch x := v.(type) {
	case string:
		return c.isStr && c.cmpStr(x)
	case float64:
		return !c.isStr && !c.isBool && c.cmpNum(x)
	case bool:
		if !c.isBool {
			return false
		}
		switch c.op {
		case "=":
			return x == c.b
		case "!=":
			return x != c.b
		}
	}
	return false
}

func (c cmpNode) cmpStr(s string) bool {
	switch c.op {
	case "=":
		return s == c.str
	case "!=":
		return s != c.str
	case "CONTAINS":
		return strings.Contains(s, c.str)
	case "BEGINSWITH":
		return strings.HasPrefix(s, c.str)
	case "ENDSWITH":
		return strings.HasSuffix(s, c.str)
	}
	return false
}

func (c cmpNode) cmpNum(x float64) bool {
	switch c.op {
	case "=":
		return x == c.num
	case "!=":
		return x != c.num
	case "<":
		return x < c.num
	case "<=":
		return x <= c.num
	case ">":
		return x > c.num
	case ">=":
		return x >= c.num
	}
	return false
}

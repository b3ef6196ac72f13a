package xraysampling

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"a", "", false},
		{"GET", "get", true},
		{"get", "GET", true},
		{"GET", "POST", false},
		{"/api/*", "/api/users/1", true},
		{"/api/*", "/API/users", true},
		{"/api/*", "/ap", false},
		{"/api/*/orders", "/api/7/orders", true},
		{"/api/*/orders", "/api/7/orders/x", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"*.example.com", "shop.example.com", true},
		{"*.example.com", "example.com", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"**", "x", true},
		{"*a", "bbbbbba", true},
		{"?", "é", true},      // one rune, two bytes
		{"É*", "école", true}, // Unicode case folding
		{"straße", "STRASSE", false},
		{"*x*", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"|"+tc.s, func(t *testing.T) {
			if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
				t.Fatalf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
			}
		})
	}
}

func TestMatchFieldEmptyValue(t *testing.T) {
	if matchField("GET", "") {
		t.Fatal("an empty request value must match only *")
	}
	if !matchField("*", "") {
		t.Fatal("* must match an empty value")
	}
	if matchField("GET", "POST") {
		t.Fatal("POST matched GET")
	}
}

// refMatch is a slow reference: the pattern as an anchored, case-insensitive
// regular expression.
func refMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("(?is)^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()).MatchString(s)
}

func FuzzWildcardMatch(f *testing.F) {
	f.Add("/api/*", "/API/x")
	f.Add("a?c*", "abcdef")
	f.Add("*", "")
	f.Add("É*?", "éé")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 256 || !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return
		}
		if got, want := wildcardMatch(pattern, s), refMatch(pattern, s); got != want {
			t.Fatalf("wildcardMatch(%q, %q) = %v, reference %v", pattern, s, got, want)
		}
	})
}

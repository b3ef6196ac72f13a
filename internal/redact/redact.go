// Package redact removes credentials from URLs and from the error messages
// that carry them, so secrets never reach spans, logs or metrics.
package redact

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// URL returns u without user info, query and fragment ("" for nil).
func URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = "", false, "", ""
	c.User = nil
	return c.String()
}

// URLString is [URL] for a URL in text form. Text that does not parse is
// returned cut at the first '?' or '#' with any "user:pass@" removed.
func URLString(s string) string {
	if u, err := url.Parse(s); err == nil {
		return URL(u)
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if slash := strings.IndexByte(rest, '/'); slash < 0 || at < slash {
				rest = rest[at+1:]
			}
		}
		s = scheme + "://" + rest
	}
	return s
}

// Error returns err's message with the URL of every *url.Error in its chain
// redacted: net/http's client errors quote the whole request URL, query
// string and user info included. Other errors are returned unchanged.
func Error(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	for e := err; e != nil; {
		var ue *url.Error
		if !errors.As(e, &ue) {
			break
		}
		if ue.URL != "" {
			red := URLString(ue.URL)
			if red != ue.URL {
				msg = strings.ReplaceAll(msg, strconv.Quote(ue.URL), strconv.Quote(red))
				msg = strings.ReplaceAll(msg, ue.URL, red)
			}
		}
		e = ue.Err
	}
	return msg
}

// NeedsError reports whether [Error] would change err's message; it lets
// callers keep the original error when nothing is secret.
func NeedsError(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}

package httpmw

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter is the middleware's only http.ResponseWriter wrapper. It
// records the status and the body size, and exposes the wrapped writer
// through Unwrap so [http.ResponseController] reaches every optional method
// (deadlines, full duplex). Flush, Hijack and ReadFrom are implemented
// directly because handlers still type-assert for them.
type responseWriter struct {
	rw       http.ResponseWriter
	status   int
	bytes    int64
	wrote    bool // header written (explicitly or by the first Write/Flush)
	hijacked bool
}

func (w *responseWriter) reset(rw http.ResponseWriter) {
	*w = responseWriter{rw: rw}
}

// Header implements http.ResponseWriter.
func (w *responseWriter) Header() http.Header { return w.rw.Header() }

// WriteHeader implements http.ResponseWriter. 1xx informational headers
// (except 101) may be sent several times and do not fix the final status.
func (w *responseWriter) WriteHeader(code int) {
	if !w.wrote {
		if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
			w.rw.WriteHeader(code)
			return
		}
		w.wrote, w.status = true, code
	}
	w.rw.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.wrote, w.status = true, http.StatusOK
	}
	n, err := w.rw.Write(p)
	w.bytes += int64(n)
	return n, err
}

// WriteString lets io.WriteString avoid a []byte conversion when the wrapped
// writer supports it (net/http's does).
func (w *responseWriter) WriteString(s string) (int, error) {
	if !w.wrote {
		w.wrote, w.status = true, http.StatusOK
	}
	var n int
	var err error
	if sw, ok := w.rw.(io.StringWriter); ok {
		n, err = sw.WriteString(s)
	} else {
		n, err = w.rw.Write([]byte(s))
	}
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's sendfile/splice path for io.Copy into the response.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wrote {
		w.wrote, w.status = true, http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.rw.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.rw}, r)
	}
	w.bytes += n
	return n, err
}

// writerOnly hides ReadFrom so io.Copy does not recurse.
type writerOnly struct{ io.Writer }

// Flush implements http.Flusher (a no-op when the wrapped writer cannot flush).
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is what [http.ResponseController.Flush] calls; it reports
// [http.ErrNotSupported] when the wrapped writer cannot flush.
func (w *responseWriter) FlushError() error {
	if !w.wrote {
		w.wrote, w.status = true, http.StatusOK
	}
	return http.NewResponseController(w.rw).Flush()
}

// Hijack implements http.Hijacker for websockets and other upgrades.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
		if !w.wrote {
			w.wrote, w.status = true, http.StatusSwitchingProtocols
		}
	}
	return conn, brw, err
}

// Unwrap returns the wrapped writer, for [http.ResponseController].
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.rw }

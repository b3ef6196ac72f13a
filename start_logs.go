package o11y

import (
	"log/slog"

	"github.com/o11y-go/o11y/logging"
)

// startLogs builds the JSON log handler on the shared line writer and,
// unless DisableGlobals, makes it the handler logging's package-level
// functions fall back to. (Logs.SetDefault, installing it as slog's
// default, is applied by Start once every signal is up.)
func (s *SDK) startLogs() {
	cfg := s.cfg
	s.logHandler = logging.NewHandler(s.lines, &logging.Options{
		Level:           cfg.Logs.Level,
		Service:         cfg.ServiceName,
		Version:         cfg.ServiceVersion,
		Environment:     cfg.Environment,
		RedactKeys:      cfg.Logs.RedactKeys,
		DebugSampleRate: cfg.Logs.DebugSampleRate,
		ErrorHandler:    s.errorHandler("logging"),
	})
	s.logger = slog.New(s.logHandler)
	if !cfg.DisableGlobals {
		logging.SetDefaultHandler(s.logHandler)
	}
}

package httpmw

// scopeName is the instrumentation scope of the spans this package starts
// (server and client): its import path, at the module's version
// (internal/version).
const scopeName = "github.com/o11y-go/o11y/middleware/httpmw"

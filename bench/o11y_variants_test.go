package bench

// o11yHTTPVariants returns the o11y rows; filled in once the middleware lands.
func o11yHTTPVariants() []variant { return nil }

// o11yGRPCVariants returns the o11y gRPC rows; filled in once grpcmw lands.
func o11yGRPCVariants() []grpcVariant { return nil }

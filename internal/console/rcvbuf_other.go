//go:build !linux

package console

import "net"

// enlargeReadBuffer asks for a receive buffer of n bytes (capped by the
// system's limit).
func enlargeReadBuffer(uc *net.UDPConn, n int) { _ = uc.SetReadBuffer(n) }

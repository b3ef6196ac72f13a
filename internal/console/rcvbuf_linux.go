package console

import (
	"net"
	"syscall"
)

// enlargeReadBuffer asks for a receive buffer of n bytes. SetReadBuffer is
// capped by net.core.rmem_max; a process with CAP_NET_ADMIN (root in a
// container) may go past it with SO_RCVBUFFORCE, which is tried too and
// silently refused otherwise.
func enlargeReadBuffer(uc *net.UDPConn, n int) {
	_ = uc.SetReadBuffer(n)
	rc, err := uc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		cur, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		if err == nil && cur >= n {
			return
		}
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
	})
}

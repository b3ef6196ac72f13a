package console

import (
	"net"
	"syscall"
)

// enlargeReadBuffer asks for a receive buffer of n bytes. Only the console
// does this: it is the receiver a developer's own services send to (not a
// stand-in for the X-Ray daemon, which keeps the kernel default, as every
// test stand-in here does), and a development tool that drops a burst of
// segments would show traces with holes that production would not have.
// SetReadBuffer is capped by net.core.rmem_max; a process with
// CAP_NET_ADMIN (root in a container) may go past it with SO_RCVBUFFORCE,
// which is tried too and silently refused otherwise.
func enlargeReadBuffer(uc *net.UDPConn, n int) {
	_ = uc.SetReadBuffer(n) // the console's own receiver, never a daemon stand-in (see above)
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

//go:build linux && !386

package udpsink

import (
	"syscall"
	"unsafe"
)

// soMeminfo and the indexes into its result are from linux/sock_diag.h.
const (
	soMeminfo        = 55
	skMeminfoRmem    = 0
	skMeminfoRcvbuf  = 1
	skMeminfoDrops   = 8
	skMeminfoEntries = 9
)

func (s *Sink) meminfo() (meminfo, bool) {
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return meminfo{}, false
	}
	var vals [skMeminfoEntries]uint32
	var errno syscall.Errno
	cerr := rc.Control(func(fd uintptr) {
		l := uint32(unsafe.Sizeof(vals))
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_SOCKET, soMeminfo,
			uintptr(unsafe.Pointer(&vals[0])), uintptr(unsafe.Pointer(&l)), 0)
	})
	if cerr != nil || errno != 0 {
		return meminfo{}, false
	}
	return meminfo{rmemAlloc: vals[skMeminfoRmem], rcvbuf: vals[skMeminfoRcvbuf], drops: uint64(vals[skMeminfoDrops])}, true
}

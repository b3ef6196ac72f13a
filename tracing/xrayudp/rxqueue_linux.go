package xrayudp

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// rxProbe reads the receive queue of the daemon's socket through the
// kernel's sock_diag interface (what `ss -u -m` shows). It works when the
// daemon shares the application's network namespace: an ECS awsvpc or
// Fargate sidecar, or both on the host network. It asks for the socket that
// would receive the sender's datagrams, so it finds the daemon's socket
// however it is bound.
type rxProbe struct {
	once sync.Once
	fd   int // netlink socket; -1 when unavailable
	req  [72]byte
	buf  [512]byte
	seq  uint32
}

// Netlink and sock_diag constants (linux/netlink.h, linux/sock_diag.h,
// linux/inet_diag.h).
const (
	sockDiagByFamily  = 20
	nlmFRequest       = 1
	nlmsgError        = 2
	inetDiagSkmeminfo = 7
	inetDiagMsgLen    = 72
	skMeminfoRmem     = 0
	skMeminfoRcvbuf   = 1
	skMeminfoDrops    = 8
)

var errNotVisible = errors.New("xrayudp: daemon socket not visible")

func (p *rxProbe) open() {
	p.fd = -1
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return
	}
	// The kernel answers within the send call; the timeout is a guard.
	tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	p.fd = fd
}

// query returns the daemon socket's receive-queue state for datagrams from
// local to remote.
func (p *rxProbe) query(local, remote *net.UDPAddr) (rxState, error) {
	p.once.Do(p.open)
	if p.fd < 0 || local == nil || remote == nil {
		return rxState{}, errNotVisible
	}
	r := p.req[:]
	clear(r)
	src, dst := local.IP.To4(), remote.IP.To4()
	family := byte(syscall.AF_INET)
	if src == nil || dst == nil {
		src, dst = local.IP.To16(), remote.IP.To16()
		family = syscall.AF_INET6
		if src == nil || dst == nil {
			return rxState{}, errNotVisible
		}
	}
	p.seq++
	binary.NativeEndian.PutUint32(r[0:], uint32(len(r)))
	binary.NativeEndian.PutUint16(r[4:], sockDiagByFamily)
	binary.NativeEndian.PutUint16(r[6:], nlmFRequest)
	binary.NativeEndian.PutUint32(r[8:], p.seq)
	// inet_diag_req_v2
	r[16] = family
	r[17] = syscall.IPPROTO_UDP
	r[18] = 1 << (inetDiagSkmeminfo - 1)
	binary.NativeEndian.PutUint32(r[20:], 0xffffffff) // all states
	// inet_diag_sockid: for UDP the kernel looks the socket up as the
	// receiver of a datagram from src:sport to dst:dport.
	binary.BigEndian.PutUint16(r[24:], uint16(local.Port))
	binary.BigEndian.PutUint16(r[26:], uint16(remote.Port))
	copy(r[28:44], src)
	copy(r[44:60], dst)
	binary.NativeEndian.PutUint32(r[64:], 0xffffffff) // no cookie
	binary.NativeEndian.PutUint32(r[68:], 0xffffffff)
	if err := syscall.Sendto(p.fd, r, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return rxState{}, err
	}
	for {
		n, _, err := syscall.Recvfrom(p.fd, p.buf[:], 0)
		if err != nil {
			return rxState{}, err
		}
		b := p.buf[:n]
		if len(b) < 16 {
			return rxState{}, errNotVisible
		}
		if binary.NativeEndian.Uint32(b[8:]) != p.seq {
			continue // a late answer to an earlier request
		}
		if binary.NativeEndian.Uint16(b[4:]) == nlmsgError {
			return rxState{}, errNotVisible // ENOENT: no such socket here
		}
		return parseDiag(b)
	}
}

func parseDiag(b []byte) (rxState, error) {
	l := int(binary.NativeEndian.Uint32(b))
	if l > len(b) || l < 16+inetDiagMsgLen {
		return rxState{}, errNotVisible
	}
	for a := b[16+inetDiagMsgLen : l]; len(a) >= 4; {
		al := int(binary.NativeEndian.Uint16(a))
		typ := binary.NativeEndian.Uint16(a[2:])
		if al < 4 || al > len(a) {
			break
		}
		if typ == inetDiagSkmeminfo && al >= 4+4*(skMeminfoDrops+1) {
			v := a[4:]
			return rxState{
				queued: int(binary.NativeEndian.Uint32(v[4*skMeminfoRmem:])),
				limit:  int(binary.NativeEndian.Uint32(v[4*skMeminfoRcvbuf:])),
				drops:  uint64(binary.NativeEndian.Uint32(v[4*skMeminfoDrops:])),
			}, nil
		}
		a = a[(al+3)&^3:]
	}
	return rxState{}, errNotVisible
}

func (p *rxProbe) close() {
	if p.fd > 0 {
		_ = syscall.Close(p.fd)
	}
	p.fd = -1
}

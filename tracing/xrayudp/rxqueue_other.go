//go:build !linux

package xrayudp

import (
	"errors"
	"net"
)

// rxProbe cannot see the daemon's socket on this platform: the sender
// paces by rate only.
type rxProbe struct{}

var errNotVisible = errors.New("xrayudp: daemon socket not visible")

func (*rxProbe) query(_, _ *net.UDPAddr) (rxState, error) { return rxState{}, errNotVisible }
func (*rxProbe) close()                                   {}

//go:build !linux

package udpsink

func (s *Sink) meminfo() (meminfo, bool) { return meminfo{}, false }

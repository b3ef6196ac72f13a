//go:build !linux || 386

package udpsink

func (s *Sink) meminfo() (meminfo, bool) { return meminfo{}, false }

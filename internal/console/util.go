package console

import (
	"bufio"
	"bytes"
	"io"
)

func indexNL(b []byte) int {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return i
	}
	return len(b)
}

func trimSpace(b []byte) []byte { return bytes.TrimSpace(b) }

// readEMFStream reads newline-delimited EMF documents (the CloudWatch
// agent's TCP protocol) until EOF. Over-long lines are counted and skipped.
func (c *Console) readEMFStream(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	long := false
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if !long {
				c.stats.BadEMF.Add(1)
			}
			long = true
			continue
		}
		if len(line) > 0 && !long && len(trimSpace(line)) > 0 {
			_ = c.IngestEMF(line)
		}
		long = false
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

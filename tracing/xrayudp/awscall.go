package xrayudp

import (
	"go.opentelemetry.io/otel/attribute"
)

func appendAWS(dst []byte, v *view, ri *resInfo, isSeg, awsAPI bool) []byte {
	mark := len(dst)
	dst = append(dst, `,"aws":{`...)
	n := 0
	if isSeg && len(ri.awsFields) > 0 {
		dst = append(dst, ri.awsFields...)
		n++
	}
	if v == nil { // resource part only
		if n == 0 {
			return dst[:mark]
		}
		return append(dst, '}')
	}
	str := func(key, val string) {
		if val == "" {
			return
		}
		dst = appendConstKey(dst, key, n > 0)
		dst = appendStr(dst, val, maxStringBytes, "")
		n++
	}
	op := v.str(sAWSOperation)
	if op == "" && awsAPI {
		op = v.str(sRPCMethod)
	}
	str("operation", op)
	str("account_id", v.str(sAWSAccount))
	str("region", v.str(sAWSRegion))
	str("request_id", v.str(sAWSRequestID))
	str("queue_url", v.str(sAWSQueueURL))
	if t := v.val(sAWSTable); t.Type() == attribute.STRING {
		str("table_name", t.AsString())
	} else if t.Type() == attribute.STRINGSLICE {
		names := t.AsStringSlice()
		if len(names) == 1 {
			str("table_name", names[0])
		} else if len(names) > 1 {
			dst = appendConstKey(dst, "table_names", n > 0)
			n++
			dst = append(dst, '[')
			for i, name := range names {
				if i == maxMetaSliceItems {
					break
				}
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendStr(dst, name, maxStringBytes, "")
			}
			dst = append(dst, ']')
		}
	}
	if n == 0 {
		return dst[:mark]
	}
	return append(dst, '}')
}

func appendSQL(dst []byte, v *view) []byte {
	dst = append(dst, `,"sql":{"database_type":`...)
	dst = appendStr(dst, v.str(sDBSystem), maxStringBytes, "")
	str := func(key, val string) {
		if val == "" {
			return
		}
		dst = appendConstKey(dst, key, true)
		dst = appendStr(dst, val, maxStringBytes, "")
	}
	if host := v.str(sServerAddr); host != "" {
		dst = append(dst, `,"url":"`...)
		p := pieces{dst: dst, left: maxStringBytes}
		p.add(host)
		if port, ok := v.num(sServerPort); ok && port > 0 {
			p.add(":")
			p.addInt(port)
		}
		if db := v.str(sDBName); db != "" {
			p.add("/")
			p.add(db)
		}
		dst = append(p.dst, '"')
	}
	str("connection_string", v.str(sDBConn))
	str("sanitized_query", v.str(sDBStatement))
	str("user", v.str(sDBUser))
	return append(dst, '}')
}

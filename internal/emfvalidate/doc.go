// Package emfvalidate checks CloudWatch Embedded Metric Format documents
// against every rule of the EMF specification plus the SDK's own stricter
// limits, so tests can prove that what the SDK writes will be extracted.
//
// # Rules checked
//
// A line must be one JSON object (no raw newline inside, at most one trailing
// '\n'), shorter than [MaxLine] bytes, without duplicate member names. The
// root must carry "_aws" with an integer millisecond "Timestamp" (no fraction,
// no exponent) inside CloudWatch's window (14 days back, 2 hours ahead of the
// validation clock) and a "CloudWatchMetrics" array; "_aws" may also carry
// the agent routing members "LogGroupName" and "LogStreamName" (strings) and
// nothing else. Each directive has exactly "Namespace", "Dimensions" and
// "Metrics". The namespace is 1–255 characters of [A-Za-z0-9._#:/ -], not
// starting with ':' or "AWS/". "Dimensions" has at least one set; a set has at
// most 30 distinct keys; a key is 1–250 printable ASCII characters, not blank,
// not starting with ':', and names a root member whose value is a string of
// 1–1024 printable ASCII characters, not blank. "Metrics" has at most 100
// definitions with distinct names; a definition has "Name" (1–255 printable
// ASCII characters, not blank, not "_aws", not a dimension key of the
// directive), an optional "Unit" from the 27 CloudWatch units and an optional
// integer "StorageResolution" of 1 or 60, and nothing else. Every metric name
// refers to a root member that is a number, an array of 1–100 numbers, a
// statistic set {Max,Min,Count,Sum} or a histogram
// {Values,Counts,Max,Min,Count,Sum} with 1–100 distinct values, positive
// counts, Count equal to the sum of Counts, and Min ≤ every value ≤ Max.
// Every number is finite with a magnitude of 0 or within 2^-360 .. 2^360.
package emfvalidate

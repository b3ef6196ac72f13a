package emfvalidate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var now = time.UnixMilli(1700000000000)

const good = `{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"Svc","Dimensions":[["Operation"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}]},"Operation":"GetItem","Latency":12.5,"requestId":"989ffbf8"}`

func doc(dims, metrics, members string) string {
	return `{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"Svc","Dimensions":` + dims +
		`,"Metrics":` + metrics + `}]}` + members + `}`
}

func TestValid(t *testing.T) {
	valid := map[string]string{
		"V1":          good,
		"V2 no dims":  doc(`[[]]`, `[{"Name":"Requests","Unit":"Count"}]`, `,"Requests":1`),
		"array":       doc(`[[]]`, `[{"Name":"L"}]`, `,"L":[1,2,3]`),
		"highres":     doc(`[[]]`, `[{"Name":"Mem","Unit":"Bytes","StorageResolution":1}]`, `,"Mem":1600424`),
		"res60":       doc(`[[]]`, `[{"Name":"Mem","StorageResolution":60}]`, `,"Mem":1`),
		"histogram":   doc(`[[]]`, `[{"Name":"L","Unit":"Milliseconds"}]`, `,"L":{"Values":[10,20],"Counts":[3,1],"Max":20,"Min":10,"Count":4,"Sum":50}`),
		"statset":     doc(`[[]]`, `[{"Name":"L"}]`, `,"L":{"Max":20,"Min":10,"Count":4,"Sum":50}`),
		"agent":       `{"_aws":{"Timestamp":1700000000000,"LogGroupName":"g","LogStreamName":"s","CloudWatchMetrics":[]}}`,
		"trailing nl": good + "\n",
		"13 days":     strings.Replace(good, "1700000000000", fmt.Sprint(now.Add(-13*24*time.Hour).UnixMilli()), 1),
		"+1h":         strings.Replace(good, "1700000000000", fmt.Sprint(now.Add(time.Hour).UnixMilli()), 1),
	}
	for name, line := range valid {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, ValidateAt([]byte(line), now))
		})
	}
}

func TestInvalid(t *testing.T) {
	keys30 := make([]string, 31)
	members := ""
	for i := range keys30 {
		keys30[i] = fmt.Sprintf(`"K%d"`, i)
		members += fmt.Sprintf(`,"K%d":"v"`, i)
	}
	var metrics101, values101 []string
	mem101 := ""
	for i := 0; i < 101; i++ {
		metrics101 = append(metrics101, fmt.Sprintf(`{"Name":"M%d"}`, i))
		mem101 += fmt.Sprintf(`,"M%d":1`, i)
		values101 = append(values101, "1")
	}
	bad := map[string]string{
		"not json":          `{"_aws":`,
		"not object":        `[1]`,
		"no _aws":           `{"a":1}`,
		"raw newline":       strings.Replace(good, `"GetItem"`, "\"Get\nItem\"", 1),
		"two lines":         good + "\n" + good,
		"duplicate key":     good[:len(good)-1] + `,"Latency":13}`,
		"dup _aws property": good[:len(good)-1] + `,"_aws":{}}`,
		"float timestamp":   strings.Replace(good, "1700000000000", "1700000000000.5", 1),
		"exp timestamp":     strings.Replace(good, "1700000000000", "1.7e12", 1),
		"string timestamp":  strings.Replace(good, "1700000000000", `"1700000000000"`, 1),
		"-15 days":          strings.Replace(good, "1700000000000", fmt.Sprint(now.Add(-15*24*time.Hour).UnixMilli()), 1),
		"+3h":               strings.Replace(good, "1700000000000", fmt.Sprint(now.Add(3*time.Hour).UnixMilli()), 1),
		"unknown _aws":      strings.Replace(good, `"Timestamp"`, `"X":1,"Timestamp"`, 1),
		"empty dims":        doc(`[]`, `[{"Name":"R"}]`, `,"R":1`),
		"31 keys":           doc(`[[`+strings.Join(keys30, ",")+`]]`, `[{"Name":"R"}]`, members+`,"R":1`),
		"colon key":         doc(`[[":bad"]]`, `[{"Name":"R"}]`, `,":bad":"v","R":1`),
		"blank value":       doc(`[["A"]]`, `[{"Name":"R"}]`, `,"A":"  ","R":1`),
		"empty value":       doc(`[["A"]]`, `[{"Name":"R"}]`, `,"A":"","R":1`),
		"non-ascii value":   doc(`[["A"]]`, `[{"Name":"R"}]`, `,"A":"héllo","R":1`),
		"newline value":     doc(`[["A"]]`, `[{"Name":"R"}]`, `,"A":"a\nb","R":1`),
		"1025 value":        doc(`[["A"]]`, `[{"Name":"R"}]`, `,"A":"`+strings.Repeat("a", 1025)+`","R":1`),
		"251 key":           doc(`[["`+strings.Repeat("k", 251)+`"]]`, `[{"Name":"R"}]`, `,"`+strings.Repeat("k", 251)+`":"v","R":1`),
		"number dim":        doc(`[["A"]]`, `[{"Name":"R"}]`, `,"A":1,"R":1`),
		"missing dim":       doc(`[["A"]]`, `[{"Name":"R"}]`, `,"R":1`),
		"101 metrics":       doc(`[[]]`, `[`+strings.Join(metrics101, ",")+`]`, mem101),
		"101 values":        doc(`[[]]`, `[{"Name":"R"}]`, `,"R":[`+strings.Join(values101, ",")+`]`),
		"empty array":       doc(`[[]]`, `[{"Name":"R"}]`, `,"R":[]`),
		"bad unit":          doc(`[[]]`, `[{"Name":"R","Unit":"Millis"}]`, `,"R":1`),
		"res 30":            doc(`[[]]`, `[{"Name":"R","StorageResolution":30}]`, `,"R":1`),
		"res float":         doc(`[[]]`, `[{"Name":"R","StorageResolution":1.0}]`, `,"R":1`),
		"empty name":        doc(`[[]]`, `[{"Name":""}]`, `,"":1`),
		"256 name":          doc(`[[]]`, `[{"Name":"`+strings.Repeat("n", 256)+`"}]`, `,"`+strings.Repeat("n", 256)+`":1`),
		"name = dim":        doc(`[["A"]]`, `[{"Name":"A"}]`, `,"A":"v"`),
		"missing metric":    doc(`[[]]`, `[{"Name":"R"}]`, ``),
		"string metric":     doc(`[[]]`, `[{"Name":"R"}]`, `,"R":"1"`),
		"null metric":       doc(`[[]]`, `[{"Name":"R"}]`, `,"R":null`),
		"huge value":        doc(`[[]]`, `[{"Name":"R"}]`, `,"R":1e300`),
		"tiny value":        doc(`[[]]`, `[{"Name":"R"}]`, `,"R":1e-300`),
		"metric twice":      doc(`[[]]`, `[{"Name":"R"},{"Name":"R"}]`, `,"R":1`),
		"extra def member":  doc(`[[]]`, `[{"Name":"R","X":1}]`, `,"R":1`),
		"AWS namespace":     strings.Replace(good, `"Svc"`, `"AWS/Lambda"`, 1),
		"bad namespace":     strings.Replace(good, `"Svc"`, `"My!App"`, 1),
		"colon namespace":   strings.Replace(good, `"Svc"`, `":App"`, 1),
		"empty namespace":   strings.Replace(good, `"Svc"`, `""`, 1),
		"hist len mismatch": doc(`[[]]`, `[{"Name":"L"}]`, `,"L":{"Values":[10,20],"Counts":[3],"Max":20,"Min":10,"Count":3,"Sum":50}`),
		"hist count":        doc(`[[]]`, `[{"Name":"L"}]`, `,"L":{"Values":[10,20],"Counts":[3,1],"Max":20,"Min":10,"Count":5,"Sum":50}`),
		"hist out of range": doc(`[[]]`, `[{"Name":"L"}]`, `,"L":{"Values":[10,30],"Counts":[3,1],"Max":20,"Min":10,"Count":4,"Sum":50}`),
		"hist dup value":    doc(`[[]]`, `[{"Name":"L"}]`, `,"L":{"Values":[10,10],"Counts":[3,1],"Max":20,"Min":10,"Count":4,"Sum":50}`),
		"hist zero count":   doc(`[[]]`, `[{"Name":"L"}]`, `,"L":{"Values":[10,20],"Counts":[0,1],"Max":20,"Min":10,"Count":1,"Sum":50}`),
		"statset missing":   doc(`[[]]`, `[{"Name":"L"}]`, `,"L":{"Max":20,"Min":10,"Count":4}`),
		"min > max":         doc(`[[]]`, `[{"Name":"L"}]`, `,"L":{"Max":1,"Min":10,"Count":4,"Sum":5}`),
		"too long":          good[:len(good)-1] + `,"p":"` + strings.Repeat("x", MaxLine) + `"}`,
	}
	for name, line := range bad {
		t.Run(name, func(t *testing.T) {
			require.Error(t, ValidateAt([]byte(line), now))
		})
	}
}

func TestParseAndDocuments(t *testing.T) {
	d, err := ParseAt([]byte(good), now)
	require.NoError(t, err)
	assert.Equal(t, int64(1700000000000), d.Timestamp)
	assert.Equal(t, "Svc", d.Directives[0].Namespace)
	assert.Equal(t, "Latency", d.Directives[0].Metrics[0].Name)
	assert.Equal(t, 12.5, d.Members["Latency"])

	stream := `{"level":"INFO","msg":"hi"}` + "\n\n" + good + "\nplain text\n" + good + "\n"
	emf, other, err := Documents(strings.NewReader(stream))
	require.NoError(t, err)
	assert.Len(t, emf, 2)
	assert.Len(t, other, 2)
	docs, err := ValidateAll(strings.NewReader(stream), now)
	require.NoError(t, err)
	assert.Len(t, docs, 2)
	_, err = ValidateAll(strings.NewReader(strings.Replace(stream, `"Svc"`, `"AWS/x"`, 1)), now)
	require.Error(t, err)
	assert.False(t, IsEMF([]byte(`{"aws":1}`)))
	assert.True(t, IsEMF([]byte(good)))
}

// FuzzValidate: the validator must never panic on arbitrary input.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(doc(`[[]]`, `[{"Name":"L"}]`, `,"L":{"Values":[10,20],"Counts":[3,1],"Max":20,"Min":10,"Count":4,"Sum":50}`)))
	f.Add([]byte(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{}]}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		_ = ValidateAt(line, now)
		_ = ValidateAt(line, time.Time{})
	})
}

func TestDocSampleCount(t *testing.T) {
	d := &Doc{Members: map[string]any{
		"Scalar": 3.5,
		"Array":  []any{1.0, 2.0, 3.0},
		"Dist":   map[string]any{"Values": []any{10.0, 20.0}, "Counts": []any{3.0, 1.0}, "Count": 4.0},
		"Name":   "GET /x",
	}}
	for metric, want := range map[string]int{"Scalar": 1, "Array": 3, "Dist": 4} {
		n, ok := d.SampleCount(metric)
		if !ok || n != want {
			t.Errorf("%s: got %d, %v; want %d", metric, n, ok, want)
		}
	}
	for _, metric := range []string{"Name", "Missing"} {
		if _, ok := d.SampleCount(metric); ok {
			t.Errorf("%s: want not a metric value", metric)
		}
	}
}

package xraysampling

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLocalRules(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
		want    []string // rule names in evaluation order
	}{
		{name: "aws default file", doc: `{"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[]}`, want: []string{"Default"}},
		{name: "v2 rules", doc: `{"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[{"description":"a","http_method":"GET","url_path":"/x","fixed_target":0,"rate":0},{"host":"h","fixed_target":1,"rate":1}]}`, want: []string{"a", "local-1", "Default"}},
		{name: "v1", doc: `{"version":1,"default":{"fixed_target":1,"rate":0.05},"rules":[{"service_name":"svc","http_method":"*","url_path":"*","fixed_target":1,"rate":0.1}]}`, want: []string{"local-0", "Default"}},
		{name: "garbage", doc: `not json`, wantErr: "local rules"},
		{name: "empty", doc: ``, wantErr: "local rules"},
		{name: "no version", doc: `{"default":{"fixed_target":1,"rate":0.05}}`, wantErr: "missing version"},
		{name: "version 3", doc: `{"version":3,"default":{"fixed_target":1,"rate":0.05}}`, wantErr: "unsupported version 3"},
		{name: "no default", doc: `{"version":2,"rules":[]}`, wantErr: "missing default"},
		{name: "rate above 1", doc: `{"version":2,"default":{"fixed_target":1,"rate":1.5}}`, wantErr: "outside [0,1]"},
		{name: "negative target", doc: `{"version":2,"default":{"fixed_target":-1,"rate":0.5}}`, wantErr: "fixed_target -1"},
		{name: "rule without rate", doc: `{"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[{"fixed_target":1}]}`, wantErr: "rule 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := parseLocalRules([]byte(tc.doc))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, r := range rs {
				names = append(names, r.name)
			}
			assert.Equal(t, tc.want, names)
		})
	}
}

func TestParseLocalRulesV1ServiceNameIsHost(t *testing.T) {
	data, err := os.ReadFile("testdata/rules-v1.json")
	require.NoError(t, err)
	rs, err := parseLocalRules(data)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, "admin.*", rs[0].host)
	assert.Equal(t, 0.1, rs[1].fixedRate)
}

func TestNewBadRulesFallsBackToDefault(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"version":2,`), 0o600))
	for _, opts := range []Options{
		{RulesFile: bad},
		{RulesFile: filepath.Join(dir, "missing.json")},
		{Rules: []byte(`{"version":9}`)},
	} {
		s, err := New(opts)
		require.Error(t, err)
		require.NotNil(t, s)
		assert.True(t, strings.HasPrefix(err.Error(), "xraysampling: "), err.Error())
		require.Len(t, s.local, 1)
		assert.Equal(t, DefaultRuleName, s.local[0].name)
		assert.Equal(t, int64(1), s.local[0].reservoirSize)
		assert.Equal(t, 0.05, s.local[0].fixedRate)
	}
}

func FuzzParseLocalRules(f *testing.F) {
	for _, p := range []string{"testdata/rules-v1.json", "testdata/rules-v2.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := parseLocalRules(data)
		if err != nil {
			return
		}
		if len(rs) == 0 || rs[len(rs)-1].name != DefaultRuleName {
			t.Fatalf("parsed rules must end with the default rule: %d rules", len(rs))
		}
		for _, r := range rs {
			if r.reservoirSize < 0 || !(r.fixedRate >= 0 && r.fixedRate <= 1) {
				t.Fatalf("invalid rule accepted: %+v", r)
			}
		}
	})
}

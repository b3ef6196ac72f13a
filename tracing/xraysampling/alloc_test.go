//go:build !race

package xraysampling

import (
	"os"
	"testing"
	"time"
)

func TestShouldSampleAllocatesNothing(t *testing.T) {
	data, err := os.ReadFile("testdata/rules-v2.json")
	if err != nil {
		t.Fatal(err)
	}
	local, err := New(Options{Rules: data, RecordRuleName: true})
	if err != nil {
		t.Fatal(err)
	}
	central, err := New(Options{ServiceName: "shop", ServiceType: "AWS::ECS::Fargate"})
	if err != nil {
		t.Fatal(err)
	}
	rs := &ruleSet{fetched: time.Now()}
	for _, a := range []*apiRule{
		{RuleName: "grpc", Priority: 1, FixedRate: 0.1, ReservoirSize: 1, Version: 1, Attributes: map[string]string{"rpc.system": "grpc"}},
		{RuleName: "api", Priority: 2, FixedRate: 0.1, ReservoirSize: 1, URLPath: "/api/*", Version: 1},
		{RuleName: "Default", Priority: 10000, FixedRate: 0.05, ReservoirSize: 1, Version: 1},
	} {
		r, ok := central.buildCentralRule(a)
		if !ok {
			t.Fatalf("rule %s rejected", a.RuleName)
		}
		rs.rules = append(rs.rules, r)
	}
	central.central.Store(rs)
	p := httpParams("POST", "/api/orders/1", "shop.example.com")
	for name, s := range map[string]*Sampler{"local": local, "centralized": central} {
		if n := testing.AllocsPerRun(1000, func() { s.ShouldSample(p) }); n != 0 {
			t.Errorf("%s: ShouldSample allocates %.1f times per call, want 0", name, n)
		}
	}
}

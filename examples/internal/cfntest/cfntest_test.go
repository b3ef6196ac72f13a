package cfntest

import (
	"strings"
	"testing"
)

const doc = `
Parameters:
  Name: { Type: String, Default: orders }
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - { Effect: Allow, Principal: { Service: ecs-tasks.amazonaws.com }, Action: sts:AssumeRole }
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - { Effect: Allow, Action: [a:B, a:C], Resource: "*" }
              - { Effect: Allow, Action: d:E, Resource: !GetAtt Group.Arn }
  Group:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /ecs/${Name}
      Short: !Ref Name
      Long: { Ref: Name }
      AttShort: !GetAtt Role.Arn
      AttList: !GetAtt [Role, Arn]
      AttLong: { "Fn::GetAtt": [Role, Arn] }
      SubList: !Sub ["x-${Name}", {}]
      Literal: !Sub "${!NotAVar}-${Name}"
      Env:
        - { Name: A, Value: "1" }
        - { Name: B, Value: !Ref Name }
`

func TestHelpers(t *testing.T) {
	tmpl, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	props := Get(tmpl.Resource("Group"), "Properties")
	vars := tmpl.Vars()
	tests := []struct {
		key, want string
	}{
		{"LogGroupName", "/ecs/orders"},
		{"Short", "orders"},
		{"Long", "orders"},
		{"SubList", "x-orders"},
		{"Literal", "${NotAVar}-orders"},
	}
	for _, tc := range tests {
		got, ok := Resolve(Get(props, tc.key), vars)
		if !ok || got != tc.want {
			t.Errorf("Resolve(%s) = %q, %v; want %q", tc.key, got, ok, tc.want)
		}
	}
	for _, k := range []string{"AttShort", "AttList", "AttLong"} {
		if a, ok := GetAtt(Get(props, k)); !ok || a != "Role.Arn" {
			t.Errorf("GetAtt(%s) = %q, %v", k, a, ok)
		}
	}
	if _, err := Substitute("${Missing}", vars); err == nil || !strings.Contains(err.Error(), "Missing") {
		t.Errorf("Substitute with an unknown name: %v", err)
	}
	env := NameValues(Get(props, "Env"))
	if Str(env["A"]) != "1" {
		t.Errorf("env A = %q", Str(env["A"]))
	}
	if r, _ := Ref(env["B"]); r != "Name" {
		t.Errorf("env B ref %q", r)
	}
	if ids := tmpl.ResourcesOfType("AWS::IAM::Role"); len(ids) != 1 || ids[0] != "Role" {
		t.Errorf("ResourcesOfType = %v", ids)
	}
	st := RoleStatements(tmpl.Resource("Role"))
	if len(st) != 2 || strings.Join(st[0].Actions, ",") != "a:B,a:C" || strings.Join(st[1].Actions, ",") != "d:E" {
		t.Errorf("statements %+v", st)
	}
	if a, _ := GetAtt(st[1].Resources[0]); a != "Group.Arn" {
		t.Errorf("statement resource %q", a)
	}
	if s := AssumeRoleServices(tmpl.Resource("Role")); len(s) != 1 || s[0] != "ecs-tasks.amazonaws.com" {
		t.Errorf("principals %v", s)
	}
	if Get(props, "Env", "5") != nil || Get(props, "Nope") != nil {
		t.Errorf("Get of missing paths should be nil")
	}
	if _, err := Parse([]byte("- a\n- b\n")); err == nil {
		t.Errorf("a sequence is not a template")
	}
}

// Package cfntest reads CloudFormation YAML templates for the examples'
// tests. Templates are decoded into yaml.Node trees so the short-form
// intrinsic tags (!Ref, !Sub, !GetAtt, !If, …) survive decoding; helpers
// understand both the short and the long (Fn::…) forms.
//
// It is test support code, not part of the SDK.
package cfntest

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a decoded CloudFormation template.
type Template struct {
	// Root is the top-level mapping (AWSTemplateFormatVersion, Resources, …).
	Root *yaml.Node
}

// Load reads and decodes the template at path.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse decodes a template from YAML (JSON is YAML too).
func Parse(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("cfntest: template is not a mapping")
	}
	t := &Template{Root: doc.Content[0]}
	if Get(t.Root, "Resources") == nil {
		return nil, fmt.Errorf("cfntest: template has no Resources")
	}
	return t, nil
}

// Resource returns the resource node with the given logical id, or nil.
func (t *Template) Resource(id string) *yaml.Node { return Get(t.Root, "Resources", id) }

// ResourcesOfType returns the logical ids of every resource of type typ, in
// template order.
func (t *Template) ResourcesOfType(typ string) []string {
	res := Get(t.Root, "Resources")
	var ids []string
	for i := 0; i+1 < len(res.Content); i += 2 {
		if Str(Get(res.Content[i+1], "Type")) == typ {
			ids = append(ids, res.Content[i].Value)
		}
	}
	return ids
}

// ParameterDefaults maps each parameter name to its Default (as a string;
// list defaults keep their comma-separated form).
func (t *Template) ParameterDefaults() map[string]string {
	out := map[string]string{}
	ps := Get(t.Root, "Parameters")
	if ps == nil {
		return out
	}
	for i := 0; i+1 < len(ps.Content); i += 2 {
		if d := Get(ps.Content[i+1], "Default"); d != nil {
			out[ps.Content[i].Value] = d.Value
		}
	}
	return out
}

// Get walks n through mapping keys and (for sequences) decimal indexes. It
// returns nil when any step is missing. Aliases are followed.
func Get(n *yaml.Node, path ...string) *yaml.Node {
	for _, p := range path {
		n = deref(n)
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					next = n.Content[i+1]
					break
				}
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	return deref(n)
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// Str is a scalar's value ("" for nil or non-scalars), whatever its tag.
func Str(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// Int is a scalar's integer value (numbers may be quoted in CloudFormation).
func Int(n *yaml.Node) (int, bool) {
	v, err := strconv.Atoi(Str(n))
	return v, err == nil
}

// Bool is a scalar's boolean value ("true"/"false", quoted or not).
func Bool(n *yaml.Node) (bool, bool) {
	v, err := strconv.ParseBool(Str(n))
	return v, err == nil
}

// Seq returns a sequence's items (nil for anything else).
func Seq(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// Strings returns a scalar as a one-element list, or a sequence of scalars.
func Strings(n *yaml.Node) []string {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range Seq(n) {
		out = append(out, Str(c))
	}
	return out
}

// Keys returns a mapping's keys in order.
func Keys(n *yaml.Node) []string {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// Ref returns X for `!Ref X` or `{Ref: X}`.
func Ref(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil {
		return "", false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!Ref" {
		return n.Value, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Ref" {
		return Str(n.Content[1]), true
	}
	return "", false
}

// GetAtt returns "Resource.Attribute" for `!GetAtt R.A`, `!GetAtt [R, A]` or
// `{Fn::GetAtt: [R, A]}`.
func GetAtt(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil {
		return "", false
	}
	if n.Tag == "!GetAtt" {
		if n.Kind == yaml.ScalarNode {
			return n.Value, true
		}
		return strings.Join(Strings(n), "."), true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Fn::GetAtt" {
		v := n.Content[1]
		if v.Kind == yaml.ScalarNode {
			return v.Value, true
		}
		return strings.Join(Strings(v), "."), true
	}
	return "", false
}

// SubString returns the format string of `!Sub "…"`, `!Sub ["…", {vars}]`
// or `{Fn::Sub: …}`, and whether n is a Sub at all. Plain scalars are
// returned as is with ok false.
func SubString(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil {
		return "", false
	}
	if n.Tag == "!Sub" {
		if n.Kind == yaml.ScalarNode {
			return n.Value, true
		}
		return Str(Get(n, "0")), true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Fn::Sub" {
		v := n.Content[1]
		if v.Kind == yaml.ScalarNode {
			return v.Value, true
		}
		return Str(Get(v, "0")), true
	}
	return Str(n), false
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// Substitute replaces ${Name} in s with vars[Name]; ${!Literal} becomes
// ${Literal}. Unknown names are an error, so a test notices a typo.
func Substitute(s string, vars map[string]string) (string, error) {
	var missing []string
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("cfntest: unresolved ${} references: %v", missing)
	}
	return strings.ReplaceAll(out, "${!", "${"), nil
}

// FindByKey returns the first item of seq whose key field equals value
// (e.g. the container named "app" in ContainerDefinitions).
func FindByKey(seq *yaml.Node, key, value string) *yaml.Node {
	for _, it := range Seq(seq) {
		if Str(Get(it, key)) == value {
			return it
		}
	}
	return nil
}

// NameValues turns a [{Name: k, Value: v}, …] list (ECS Environment, App
// Runner RuntimeEnvironmentVariables, CloudWatch Dimensions) into a map of
// value nodes.
func NameValues(seq *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for _, it := range Seq(seq) {
		out[Str(Get(it, "Name"))] = Get(it, "Value")
	}
	return out
}

// Walk calls fn for n and every node below it, depth first.
func Walk(n *yaml.Node, fn func(*yaml.Node)) {
	n = deref(n)
	if n == nil {
		return
	}
	fn(n)
	for _, c := range n.Content {
		Walk(c, fn)
	}
}

// Statement is one IAM policy statement from an inline policy.
type Statement struct {
	Policy    string
	Effect    string
	Actions   []string
	Resources []*yaml.Node
}

// RoleStatements returns every statement of the inline Policies of an
// AWS::IAM::Role (or the PolicyDocument of an AWS::IAM::Policy /
// ManagedPolicy) resource.
func RoleStatements(res *yaml.Node) []Statement {
	props := Get(res, "Properties")
	var docs []*yaml.Node
	var names []string
	for _, p := range Seq(Get(props, "Policies")) {
		docs = append(docs, Get(p, "PolicyDocument"))
		names = append(names, Str(Get(p, "PolicyName")))
	}
	if d := Get(props, "PolicyDocument"); d != nil {
		docs = append(docs, d)
		names = append(names, Str(Get(props, "PolicyName")))
	}
	var out []Statement
	for i, d := range docs {
		st := Get(d, "Statement")
		items := Seq(st)
		if items == nil && st != nil {
			items = []*yaml.Node{st}
		}
		for _, s := range items {
			r := Get(s, "Resource")
			res := Seq(r)
			if res == nil && r != nil {
				res = []*yaml.Node{r}
			}
			out = append(out, Statement{
				Policy:    names[i],
				Effect:    Str(Get(s, "Effect")),
				Actions:   Strings(Get(s, "Action")),
				Resources: res,
			})
		}
	}
	return out
}

// AssumeRoleServices lists the service principals allowed to assume a role.
func AssumeRoleServices(res *yaml.Node) []string {
	var out []string
	for _, s := range Seq(Get(res, "Properties", "AssumeRolePolicyDocument", "Statement")) {
		out = append(out, Strings(Get(s, "Principal", "Service"))...)
	}
	return out
}

// Resolve evaluates the simple intrinsics a test needs to compare values:
// plain scalars, !Ref to a name in vars (parameters and pseudo parameters)
// and !Sub with references in vars. Anything else reports false.
func Resolve(n *yaml.Node, vars map[string]string) (string, bool) {
	n = deref(n)
	if n == nil {
		return "", false
	}
	if name, ok := Ref(n); ok {
		v, found := vars[name]
		return v, found
	}
	if s, ok := SubString(n); ok {
		v, err := Substitute(s, vars)
		return v, err == nil
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "" || n.Tag == "!!str" || n.Tag == "!!int" || n.Tag == "!!bool" || n.Tag == "!!float") {
		return n.Value, true
	}
	return "", false
}

// Vars returns the parameter defaults plus the pseudo parameters a test
// needs (AWS::Region, AWS::AccountId, AWS::StackName), for [Resolve] and
// [Substitute].
func (t *Template) Vars() map[string]string {
	v := t.ParameterDefaults()
	v["AWS::Region"] = "eu-west-1"
	v["AWS::AccountId"] = "123456789012"
	v["AWS::StackName"] = "test-stack"
	v["AWS::Partition"] = "aws"
	return v
}

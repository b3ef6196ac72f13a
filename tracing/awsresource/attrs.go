package awsresource

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// Attribute keys (OpenTelemetry semantic conventions).
const (
	keyServiceName       = "service.name"
	keyServiceVersion    = "service.version"
	keyDeploymentEnvName = "deployment.environment.name"
	keyDeploymentEnv     = "deployment.environment" // older name, still read by backends

	keyCloudProvider  = "cloud.provider"
	keyCloudPlatform  = "cloud.platform"
	keyCloudRegion    = "cloud.region"
	keyCloudAccountID = "cloud.account.id"
	keyCloudAZ        = "cloud.availability_zone"
	keyCloudResource  = "cloud.resource_id"

	keyECSClusterARN   = "aws.ecs.cluster.arn"
	keyECSTaskARN      = "aws.ecs.task.arn"
	keyECSTaskID       = "aws.ecs.task.id"
	keyECSTaskFamily   = "aws.ecs.task.family"
	keyECSTaskRevision = "aws.ecs.task.revision"
	keyECSLaunchType   = "aws.ecs.launchtype"
	keyECSContainerARN = "aws.ecs.container.arn"
	keyECSServiceName  = "aws.ecs.service.name"

	keyContainerName      = "container.name"
	keyContainerID        = "container.id"
	keyContainerImageName = "container.image.name"
	keyContainerImageTag  = "container.image.tag"
	keyContainerImageTags = "container.image.tags"

	keyLogGroupNames  = "aws.log.group.names"
	keyLogGroupARNs   = "aws.log.group.arns"
	keyLogStreamNames = "aws.log.stream.names"
	keyLogStreamARNs  = "aws.log.stream.arns"

	keyFaaSName      = "faas.name"
	keyFaaSVersion   = "faas.version"
	keyFaaSInstance  = "faas.instance"
	keyFaaSMaxMemory = "faas.max_memory"

	keyK8sNamespace = "k8s.namespace.name"
	keyK8sPodName   = "k8s.pod.name"

	keyHostID      = "host.id"
	keyHostImageID = "host.image.id"
	keyHostType    = "host.type"
	keyHostName    = "host.name"
)

// builder collects attributes in insertion order; a later add of the same
// key replaces the earlier value in place.
type builder struct {
	kvs []attribute.KeyValue
	idx map[attribute.Key]int
}

func (b *builder) add(kvs ...attribute.KeyValue) {
	if b.idx == nil {
		b.idx = make(map[attribute.Key]int)
	}
	for _, kv := range kvs {
		if !kv.Valid() {
			continue
		}
		if i, ok := b.idx[kv.Key]; ok {
			b.kvs[i] = kv
			continue
		}
		b.idx[kv.Key] = len(b.kvs)
		b.kvs = append(b.kvs, kv)
	}
}

func (b *builder) get(key string) attribute.Value {
	if i, ok := b.idx[attribute.Key(key)]; ok {
		return b.kvs[i].Value
	}
	return attribute.Value{}
}

// addUser applies user string attributes over detected ones, converting to
// the detected type where there is one.
func (b *builder) addUser(m map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic order for new keys
	var bad []string
	for _, k := range keys {
		v := m[k]
		if k == "" || strings.HasPrefix(k, "telemetry.sdk.") {
			continue
		}
		var kv attribute.KeyValue
		switch b.get(k).Type() {
		case attribute.STRINGSLICE:
			kv = attribute.StringSlice(k, splitList(v))
		case attribute.INT64:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				bad = append(bad, k)
				continue
			}
			kv = attribute.Int64(k, n)
		case attribute.FLOAT64:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				bad = append(bad, k)
				continue
			}
			kv = attribute.Float64(k, f)
		case attribute.BOOL:
			t, err := strconv.ParseBool(v)
			if err != nil {
				bad = append(bad, k)
				continue
			}
			kv = attribute.Bool(k, t)
		default:
			if isListKey(k) {
				kv = attribute.StringSlice(k, splitList(v))
			} else {
				kv = attribute.String(k, v)
			}
		}
		b.add(kv)
	}
	if len(bad) > 0 {
		return fmt.Errorf("awsresource: resource attributes %s: value does not fit the detected type; detected value kept", strings.Join(bad, ", "))
	}
	return nil
}

// isListKey reports keys that semantic conventions define as string lists.
func isListKey(k string) bool {
	switch k {
	case keyLogGroupNames, keyLogGroupARNs, keyLogStreamNames, keyLogStreamARNs, keyContainerImageTags:
		return true
	}
	return false
}

// splitList splits a list given as one string: "a&b" (the X-Ray exporter's
// convention for aws.log.group.names), or "a,b" after percent-decoding.
func splitList(v string) []string {
	sep := "&"
	if !strings.Contains(v, "&") {
		sep = ","
	}
	var out []string
	for _, p := range strings.Split(v, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

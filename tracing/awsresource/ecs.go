package awsresource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// maxMetadata bounds a task metadata response (a task with many containers
// is a few tens of KiB).
const maxMetadata = 1 << 20

// Task metadata v4 shapes: only the fields used.
type ecsContainer struct {
	DockerID     string            `json:"DockerId"`
	Name         string            `json:"Name"`
	Image        string            `json:"Image"`
	ImageID      string            `json:"ImageID"`
	ContainerARN string            `json:"ContainerARN"`
	LogDriver    string            `json:"LogDriver"`
	LogOptions   map[string]string `json:"LogOptions"`
}

type ecsTask struct {
	Cluster          string `json:"Cluster"`
	TaskARN          string `json:"TaskARN"`
	Family           string `json:"Family"`
	Revision         string `json:"Revision"`
	ServiceName      string `json:"ServiceName"`
	AvailabilityZone string `json:"AvailabilityZone"`
	LaunchType       string `json:"LaunchType"`
}

// ecs reads ${uri} (this container) and ${uri}/task concurrently and adds
// what it finds; what one of them lacks the other may still give.
func (d *detector) ecs(ctx context.Context, uri string, b *builder) error {
	uri = strings.TrimRight(uri, "/")
	var c ecsContainer
	var t ecsTask
	cerr := make(chan error, 1)
	go func() { cerr <- d.getJSON(ctx, uri, &c) }()
	terr := d.getJSON(ctx, uri+"/task", &t)
	errC := <-cerr

	var errs []error
	if errC != nil {
		errs = append(errs, fmt.Errorf("awsresource: ECS container metadata: %w", errC))
	}
	if terr != nil {
		errs = append(errs, fmt.Errorf("awsresource: ECS task metadata: %w", terr))
	}
	arn := parseARN(t.TaskARN)
	if terr == nil {
		addIf(b, keyCloudRegion, arn.region)
		addIf(b, keyCloudAccountID, arn.account)
		addIf(b, keyCloudAZ, t.AvailabilityZone)
		addIf(b, keyECSClusterARN, clusterARN(t.Cluster, arn))
		addIf(b, keyECSTaskARN, t.TaskARN)
		if i := strings.LastIndexByte(arn.resource, '/'); i >= 0 {
			addIf(b, keyECSTaskID, arn.resource[i+1:])
		}
		addIf(b, keyECSTaskFamily, t.Family)
		addIf(b, keyECSTaskRevision, t.Revision)
		addIf(b, keyECSLaunchType, strings.ToLower(t.LaunchType))
		addIf(b, keyECSServiceName, t.ServiceName)
	}
	if errC == nil {
		addIf(b, keyECSContainerARN, c.ContainerARN)
		addIf(b, keyCloudResource, c.ContainerARN)
		addIf(b, keyContainerName, c.Name)
		addIf(b, keyContainerID, c.DockerID)
		if name, tag := splitImage(c.Image); name != "" {
			b.add(attribute.String(keyContainerImageName, name))
			if tag != "" {
				b.add(attribute.String(keyContainerImageTag, tag), attribute.StringSlice(keyContainerImageTags, []string{tag}))
			}
		}
		if c.ContainerARN != "" && arn.region == "" {
			arn = parseARN(c.ContainerARN) // region/account for the log ARNs
			addIf(b, keyCloudRegion, arn.region)
			addIf(b, keyCloudAccountID, arn.account)
		}
		addAWSLogs(b, &c, arn)
	}
	return errors.Join(errs...)
}

// addAWSLogs adds the awslogs group and stream, tolerating options that
// lack either (the contrib detector fails there).
func addAWSLogs(b *builder, c *ecsContainer, arn arnParts) {
	if c.LogDriver != "awslogs" || c.LogOptions == nil {
		return
	}
	group, stream := c.LogOptions["awslogs-group"], c.LogOptions["awslogs-stream"]
	region := firstNonEmpty(c.LogOptions["awslogs-region"], arn.region)
	if group == "" {
		return
	}
	b.add(attribute.StringSlice(keyLogGroupNames, []string{group}))
	canARN := arn.account != "" && region != ""
	groupARN := ""
	if canARN {
		groupARN = "arn:" + arn.partitionOr() + ":logs:" + region + ":" + arn.account + ":log-group:" + group
		b.add(attribute.StringSlice(keyLogGroupARNs, []string{groupARN + ":*"}))
	}
	if stream != "" {
		b.add(attribute.StringSlice(keyLogStreamNames, []string{stream}))
		if canARN {
			b.add(attribute.StringSlice(keyLogStreamARNs, []string{groupARN + ":log-stream:" + stream}))
		}
	}
}

func (d *detector) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1))
	if err != nil {
		return err
	}
	if len(body) > maxMetadata {
		return fmt.Errorf("GET %s: response over %d bytes", url, maxMetadata)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// arnParts is arn:partition:service:region:account:resource.
type arnParts struct {
	partition, service, region, account, resource string
}

func parseARN(s string) arnParts {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return arnParts{}
	}
	return arnParts{p[1], p[2], p[3], p[4], p[5]}
}

func (a arnParts) partitionOr() string {
	if a.partition == "" {
		return "aws"
	}
	return a.partition
}

// clusterARN returns the cluster ARN, rebuilding it from a short name (EC2
// launch type reports "default" rather than an ARN).
func clusterARN(cluster string, task arnParts) string {
	if cluster == "" || strings.HasPrefix(cluster, "arn:") {
		return cluster
	}
	if task.region == "" || task.account == "" {
		return ""
	}
	return "arn:" + task.partitionOr() + ":ecs:" + task.region + ":" + task.account + ":cluster/" + cluster
}

// splitImage splits "registry:port/repo:tag@sha256:…" into repository and
// tag ("" when the image is pinned by digest only or untagged).
func splitImage(image string) (name, tag string) {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	slash := strings.LastIndexByte(image, '/')
	if i := strings.LastIndexByte(image, ':'); i > slash {
		return image[:i], image[i+1:]
	}
	return image, ""
}

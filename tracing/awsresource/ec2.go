package awsresource

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/defaults"
	"github.com/aws/aws-sdk-go/aws/ec2metadata"
	"go.opentelemetry.io/contrib/detectors/aws/ec2"
	"go.opentelemetry.io/otel/sdk/resource"
)

// DefaultIMDSEndpoint is the EC2 instance metadata service.
const DefaultIMDSEndpoint = "http://169.254.169.254"

// imdsClient adapts the SDK's IMDS client to the contrib detector's Client
// interface, binding every call to ctx so the probe ends with the deadline
// (the contrib detector's own client ignores contexts and retries).
type imdsClient struct {
	ctx context.Context
	c   *ec2metadata.EC2Metadata
}

func (m imdsClient) Available() bool { return m.c.AvailableWithContext(m.ctx) }

func (m imdsClient) GetInstanceIdentityDocument() (ec2metadata.EC2InstanceIdentityDocument, error) {
	return m.c.GetInstanceIdentityDocumentWithContext(m.ctx)
}

func (m imdsClient) GetMetadata(p string) (string, error) {
	return m.c.GetMetadataWithContext(m.ctx, p)
}

// ec2 runs the contrib EC2 detector; ok reports whether IMDS answered.
func (d *detector) ec2(ctx context.Context, b *builder) (ok bool, err error) {
	endpoint := d.opts.IMDSEndpoint
	if endpoint == "" {
		endpoint = DefaultIMDSEndpoint
	}
	cfg := aws.NewConfig().WithHTTPClient(d.client).WithMaxRetries(0)
	client := ec2metadata.NewClient(*cfg, defaults.Handlers(), endpoint, "")
	res, err := ec2.NewResourceDetector(ec2.WithClient(imdsClient{ctx, client})).Detect(ctx)
	if res != nil {
		b.add(res.Attributes()...)
	}
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return res != nil && res.Len() > 0, fmt.Errorf("awsresource: EC2: %w", err)
	}
	if res == nil || res.Len() == 0 {
		if ctx.Err() != nil {
			return false, fmt.Errorf("awsresource: EC2: %w", ctx.Err())
		}
		return false, nil
	}
	return true, nil // a missing hostname (partial resource) is not worth reporting
}

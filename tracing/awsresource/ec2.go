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

// DefaultIMDSEndpoint is the EC2 instance metadata service.
const DefaultIMDSEndpoint = "http://169.254.169.254"

// IMDSv2 session protocol: a PUT to the token path with the TTL header
// returns a token that every GET carries in the token header.
const (
	imdsTokenPath    = "/latest/api/token"
	imdsTTLHeader    = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	imdsTokenHeader  = "X-Aws-Ec2-Metadata-Token"
	imdsTokenTTL     = "60" // seconds; detection uses the token once
	imdsIdentityPath = "/latest/dynamic/instance-identity/document"
	imdsHostnamePath = "/latest/meta-data/hostname"
	maxIMDSResponse  = 64 << 10
)

// errIMDSUnreachable marks a transport failure: nothing answered at the
// endpoint, which off EC2 is the normal case rather than a problem.
var errIMDSUnreachable = errors.New("instance metadata service unreachable")

// imdsStatusError is an HTTP status other than 200 from IMDS.
type imdsStatusError struct {
	method, path string
	code         int
}

func (e *imdsStatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d", e.method, e.path, e.code)
}

// identityDocument holds the fields of the instance identity document that
// become resource attributes.
type identityDocument struct {
	AccountID        string `json:"accountId"`
	AvailabilityZone string `json:"availabilityZone"`
	ImageID          string `json:"imageId"`
	InstanceID       string `json:"instanceId"`
	InstanceType     string `json:"instanceType"`
	Region           string `json:"region"`
}

// imds is a minimal IMDSv2 client: one session token, then GETs with it.
// Every call is bound to the caller's context and makes one attempt.
type imds struct {
	client   *http.Client
	endpoint string // without a trailing slash
	token    string // empty after an IMDSv1 fallback
}

// do makes one request and returns the body of a 200 response.
func (m *imds) do(ctx context.Context, method, path string, hdr http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, m.endpoint+path, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := m.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w", errIMDSUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, &imdsStatusError{method: method, path: path, code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIMDSResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if len(body) > maxIMDSResponse {
		return nil, fmt.Errorf("%s %s: response over %d bytes", method, path, maxIMDSResponse)
	}
	return body, nil
}

// session gets a token. Like the AWS SDKs, it falls back to IMDSv1 (no
// token) when the token endpoint answers 403, 404 or 405; an instance that
// requires IMDSv2 then answers the GETs with 401, which is reported.
func (m *imds) session(ctx context.Context) error {
	body, err := m.do(ctx, http.MethodPut, imdsTokenPath, http.Header{imdsTTLHeader: {imdsTokenTTL}})
	var se *imdsStatusError
	if errors.As(err, &se) {
		switch se.code {
		case http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
			return nil
		}
	}
	if err != nil {
		return err
	}
	m.token = strings.TrimSpace(string(body))
	if m.token == "" {
		return fmt.Errorf("PUT %s: empty token", imdsTokenPath)
	}
	return nil
}

func (m *imds) get(ctx context.Context, path string) ([]byte, error) {
	var hdr http.Header
	if m.token != "" {
		hdr = http.Header{imdsTokenHeader: {m.token}}
	}
	return m.do(ctx, http.MethodGet, path, hdr)
}

// ec2 reads the instance identity document and hostname from IMDS. ok
// reports whether IMDS answered; an unreachable IMDS is not an error (off
// EC2 it is the normal case), a deadline or a misbehaving IMDS is.
func (d *detector) ec2(ctx context.Context, b *builder) (ok bool, err error) {
	endpoint := d.opts.IMDSEndpoint
	if endpoint == "" {
		endpoint = DefaultIMDSEndpoint
	}
	m := &imds{client: d.client, endpoint: strings.TrimRight(endpoint, "/")}
	var doc identityDocument
	err = m.session(ctx)
	if err == nil {
		var body []byte
		body, err = m.get(ctx, imdsIdentityPath)
		if err == nil {
			if jerr := json.Unmarshal(body, &doc); jerr != nil {
				err = fmt.Errorf("GET %s: %w", imdsIdentityPath, jerr)
			} else if doc.InstanceID == "" || doc.Region == "" {
				err = fmt.Errorf("GET %s: no instanceId or region", imdsIdentityPath)
			}
		}
	}
	if errors.Is(err, errIMDSUnreachable) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("awsresource: EC2: %w", err)
	}
	b.add(
		attribute.String(keyCloudProvider, "aws"),
		attribute.String(keyCloudPlatform, PlatformEC2),
		attribute.String(keyCloudRegion, doc.Region),
	)
	addIf(b, keyCloudAZ, doc.AvailabilityZone)
	addIf(b, keyCloudAccountID, doc.AccountID)
	addIf(b, keyHostID, doc.InstanceID)
	addIf(b, keyHostImageID, doc.ImageID)
	addIf(b, keyHostType, doc.InstanceType)
	// A missing hostname is not worth reporting: the identity is complete.
	if h, err := m.get(ctx, imdsHostnamePath); err == nil {
		addIf(b, keyHostName, strings.TrimSpace(string(h)))
	}
	return true, nil
}

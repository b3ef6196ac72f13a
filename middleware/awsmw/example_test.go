package awsmw_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/o11y-go/o11y/middleware/awsmw"
)

// Instrument once, where the AWS config is loaded (config.LoadDefaultConfig
// in a real service); every client made from it is traced.
func ExampleInstrument() {
	cfg := aws.Config{Region: "eu-west-1"}
	awsmw.Instrument(&cfg)
	_ = sqs.NewFromConfig(cfg)
	fmt.Println(len(cfg.APIOptions), "API option,", len(cfg.ServiceOptions), "service option")
	// Output: 1 API option, 1 service option
}

// A worker continues each message's trace and request id.
func ExampleStartConsumer() {
	handle := func(ctx context.Context, client *sqs.Client, queueURL string) error {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(queueURL),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAWSTraceHeader},
			MessageAttributeNames:       []string{"All"},
			WaitTimeSeconds:             20,
		})
		if err != nil {
			return err
		}
		for _, msg := range out.Messages {
			mctx, span := awsmw.StartConsumer(ctx, msg, awsmw.WithQueueURL(queueURL))
			// ... process msg with mctx (its logs carry the request id), then delete it ...
			_ = mctx
			span.End()
		}
		return nil
	}
	_ = handle
}

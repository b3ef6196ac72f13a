package awsresource

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Origin returns the X-Ray segment origin for a detected resource
// ("AWS::ECS::Fargate", "AWS::EC2::Instance", …) or "" when there is none
// (Lambda, off AWS). It is the ServiceType that centralized sampling rules
// match.
func Origin(res *resource.Resource) string {
	if res == nil {
		return ""
	}
	get := func(k string) string {
		v, _ := res.Set().Value(attribute.Key(k))
		return v.AsString()
	}
	if p := get(keyCloudProvider); p != "" && p != "aws" {
		return ""
	}
	switch get(keyCloudPlatform) {
	case PlatformAppRunner:
		return "AWS::AppRunner::Service"
	case PlatformEKS:
		return "AWS::EKS::Container"
	case "aws_elastic_beanstalk":
		return "AWS::ElasticBeanstalk::Environment"
	case PlatformEC2:
		return "AWS::EC2::Instance"
	case PlatformECS:
		switch strings.ToLower(get(keyECSLaunchType)) {
		case "ec2":
			return "AWS::ECS::EC2"
		case "fargate":
			return "AWS::ECS::Fargate"
		}
		return "AWS::ECS::Container"
	}
	return ""
}

// LogGroupNames returns aws.log.group.names from the resource (the awslogs
// group on ECS, the function's group on Lambda), for segments'
// aws.cloudwatch_logs.
func LogGroupNames(res *resource.Resource) []string {
	if res == nil {
		return nil
	}
	v, ok := res.Set().Value(keyLogGroupNames)
	if !ok {
		return nil
	}
	switch v.Type() {
	case attribute.STRINGSLICE:
		return v.AsStringSlice()
	case attribute.STRING:
		return splitList(v.AsString())
	}
	return nil
}

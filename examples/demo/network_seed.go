package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// demoImage is an emulated Amazon Linux AMI whose root device is
// /dev/xvda; demoImageAL2 an emulated Amazon Linux 2 one (its image
// ships the EC2 Instance Connect agent), root device /dev/xvda too.
const (
	demoImage    = "ami-760aaa0f"
	demoImageAL2 = "ami-04681a1dbd79675a5"
)

// defaultSubnets returns the emulated default VPC's subnets, one per AZ,
// sorted by AZ.
func defaultSubnets(ctx context.Context, api *ec2.Client) ([]types.Subnet, error) {
	out, err := api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{
		Filters: []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}},
	})
	if err != nil {
		return nil, err
	}
	if len(out.Subnets) < 2 {
		return nil, fmt.Errorf("the emulator's default VPC has %d subnets, want 2 or more", len(out.Subnets))
	}
	s := out.Subnets
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if aws.ToString(s[j].AvailabilityZone) < aws.ToString(s[i].AvailabilityZone) {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s, nil
}

// launch starts an instance of demoImage in subnet with an explicit mapping
// for the AMI's root device (the emulator puts the root elsewhere
// otherwise), a public IP and the given groups and key pair.
func launch(ctx context.Context, api *ec2.Client, name, subnet, key string, groups []string) (string, error) {
	return launchImage(ctx, api, demoImage, name, subnet, key, groups)
}

// launchImage is launch with another image whose root device is /dev/xvda.
func launchImage(ctx context.Context, api *ec2.Client, image, name, subnet, key string, groups []string) (string, error) {
	in := &ec2.RunInstancesInput{
		ImageId: aws.String(image), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(8)}}},
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{
			DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnet), AssociatePublicIpAddress: aws.Bool(true), Groups: groups,
		}},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}},
	}
	if key != "" {
		in.KeyName = aws.String(key)
	}
	out, err := api.RunInstances(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Instances[0].InstanceId), nil
}

// findInstance returns the ID of the running or stopped instance named name.
func findInstance(ctx context.Context, api *ec2.Client, name string) (string, error) {
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{name}},
		{Name: aws.String("instance-state-name"), Values: []string{"running", "stopped"}},
	}})
	if err != nil {
		return "", err
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			return aws.ToString(i.InstanceId), nil
		}
	}
	return "", fmt.Errorf("no instance named %s", name)
}

// routeToInternet makes sure vpc's main route table sends 0.0.0.0/0 to an
// internet gateway attached to vpc (the emulator's default VPC has none).
func routeToInternet(ctx context.Context, api *ec2.Client, vpc string) error {
	igws, err := api.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{
		Filters: []types.Filter{{Name: aws.String("attachment.vpc-id"), Values: []string{vpc}}},
	})
	if err != nil {
		return err
	}
	var igw string
	if len(igws.InternetGateways) > 0 {
		igw = aws.ToString(igws.InternetGateways[0].InternetGatewayId)
	} else {
		out, err := api.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
		if err != nil {
			return err
		}
		igw = aws.ToString(out.InternetGateway.InternetGatewayId)
		if _, err := api.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(igw), VpcId: aws.String(vpc)}); err != nil {
			return err
		}
	}
	rts, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("association.main"), Values: []string{"true"}},
	}})
	if err != nil {
		return err
	}
	if len(rts.RouteTables) == 0 {
		return fmt.Errorf("vpc %s has no main route table", vpc)
	}
	rt := rts.RouteTables[0]
	for _, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" {
			return nil
		}
	}
	_, err = api.CreateRoute(ctx, &ec2.CreateRouteInput{
		RouteTableId: rt.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igw),
	})
	return err
}

package iamguard_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// auditSeedUser is the state of one seeded user.
type auditSeedUser struct {
	name     string
	password bool
	mfa      bool
	// keys: 0 none, 1 one active, 2 one inactive, 3 two active, 4 one
	// active and one inactive.
	keys int
	// policies: 0 none, 1 attached, 2 inline, 3 attached and inline,
	// 4 group only, 5 group and inline.
	policies int
}

// auditMixedUser gives user i of a scenario its state, cycling independently
// through each dimension so that every combination class occurs.
func auditMixedUser(i int) auditSeedUser {
	return auditSeedUser{
		name:     fmt.Sprintf("user-%03d", i),
		password: i%2 == 0,
		mfa:      i%3 == 0,
		keys:     i % 5,
		policies: i % 6,
	}
}

func (u auditSeedUser) activeKeys() int {
	switch u.keys {
	case 1, 4:
		return 1
	case 3:
		return 2
	}
	return 0
}

func (u auditSeedUser) direct() bool { return u.policies != 0 && u.policies != 4 }

const (
	auditSeedGroup  = "developers"
	auditSeedPolicy = "read-only-s3"
)

var auditSeedPolicyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`

// auditSeedShared creates the group and managed policy the users refer to, and
// returns the policy's ARN.
func auditSeedShared(ctx context.Context, api *iam.Client) (string, error) {
	if _, err := api.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(auditSeedGroup)}); err != nil {
		return "", err
	}
	p, err := api.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(auditSeedPolicy), PolicyDocument: aws.String(auditSeedPolicyDoc)})
	if err != nil {
		return "", err
	}
	if _, err := api.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(auditSeedGroup), PolicyArn: p.Policy.Arn}); err != nil {
		return "", err
	}
	return aws.ToString(p.Policy.Arn), nil
}

func auditSeedOne(ctx context.Context, api *iam.Client, policyARN string, u auditSeedUser) error {
	name := aws.String(u.name)
	if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: name}); err != nil {
		return err
	}
	if u.password {
		if _, err := api.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String("Seed-Passw0rd!")}); err != nil {
			return err
		}
	}
	if u.mfa {
		if err := auditEnableMFA(ctx, api, u.name); err != nil {
			return err
		}
	}
	nKeys := map[int]int{0: 0, 1: 1, 2: 1, 3: 2, 4: 2}[u.keys]
	for k := 0; k < nKeys; k++ {
		key, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name})
		if err != nil {
			return err
		}
		if (u.keys == 2 && k == 0) || (u.keys == 4 && k == 1) {
			if _, err := api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: name, AccessKeyId: key.AccessKey.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
				return err
			}
		}
	}
	if u.policies == 1 || u.policies == 3 {
		if _, err := api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String(policyARN)}); err != nil {
			return err
		}
	}
	if u.policies == 2 || u.policies == 3 || u.policies == 5 {
		if _, err := api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: name, PolicyName: aws.String("inline"), PolicyDocument: aws.String(auditSeedPolicyDoc)}); err != nil {
			return err
		}
	}
	if u.policies == 4 || u.policies == 5 {
		if _, err := api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: name, GroupName: aws.String(auditSeedGroup)}); err != nil {
			return err
		}
	}
	return nil
}

func auditEnableMFA(ctx context.Context, api *iam.Client, user string) error {
	dev, err := api.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(user + "-mfa")})
	if err != nil {
		return err
	}
	_, err = api.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{
		UserName: aws.String(user), SerialNumber: dev.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321"),
	})
	return err
}

// auditSeedUsers creates n users, user(i) giving each its state, with the given
// number of concurrent workers.
func auditSeedUsers(ctx context.Context, api *iam.Client, n, workers int, user func(int) auditSeedUser) error {
	policyARN, err := auditSeedShared(ctx, api)
	if err != nil {
		return fmt.Errorf("seed shared: %w", err)
	}
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := auditSeedOne(ctx, api, policyARN, user(i)); err != nil {
					errs <- fmt.Errorf("seed user %d: %w", i, err)
					return
				}
			}
		}()
	}
	var firstErr error
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case firstErr = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		select {
		case firstErr = <-errs:
		default:
		}
	}
	return firstErr
}

package keyrotate_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsguard/awsguard/keyrotate"
)

// rotSignedBy records which access key signed each IAM call.
type rotSignedBy struct {
	mu  sync.Mutex
	ops map[string][]string // operation -> key IDs
}

func (s *rotSignedBy) apiOption(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("rotSignedBy",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				_, cred, _ := strings.Cut(req.Header.Get("Authorization"), "Credential=")
				akid, _, _ := strings.Cut(cred, "/")
				s.mu.Lock()
				op := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
				s.ops[op] = append(s.ops[op], akid)
				s.mu.Unlock()
			}
			return next.HandleDeserialize(ctx, in)
		}), middleware.After)
}

// A user rotating their own key: the calls after delivery are signed with
// the new key (AWS rejects the deactivated old one; moto would not).
func TestRotateOwnKeySignsLaterStepsWithNewKey(t *testing.T) {
	ctx := context.Background()
	w := newRotWorld(t, "self")
	if _, err := w.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("self"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMFullAccess")}); err != nil {
		t.Fatal(err)
	}
	a := w.addKey(types.StatusTypeActive)
	spy := &rotSignedBy{ops: map[string][]string{}}
	cfg := w.admin.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(a.AccessKeyID, a.Secret.Reveal(), "")
	cfg.APIOptions = append(cfg.APIOptions, spy.apiOption)
	rot, err := keyrotate.RotateAccessKey(ctx, keyrotate.SelfClientsFromConfig(cfg), "self", func(o *keyrotate.Options) {
		o.Deliver, o.Verify, o.DeleteOld, o.InUseKeyID = w.deliver, rotFast, true, a.AccessKeyID
	})
	if err != nil {
		t.Fatal(err)
	}
	nk := rot.NewKey.AccessKeyID
	for op, want := range map[string]string{
		"IAM.CreateAccessKey": a.AccessKeyID, "STS.GetCallerIdentity": nk,
		"IAM.UpdateAccessKey": nk, "IAM.DeleteAccessKey": nk, "IAM.UntagUser": nk,
	} {
		if got := spy.ops[op]; len(got) != 1 || got[0] != want {
			t.Errorf("%s signed by %v, want %s", op, got, want)
		}
	}
	if w.authenticates(a) {
		t.Error("the old key still authenticates")
	}
}

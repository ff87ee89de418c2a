package keyrotate_test

import (
	"context"
	"errors"
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

	"github.com/awsguard/awsguard"
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

// rotSelfWorld is a user "self" allowed to manage its own keys, holding one
// Active key, and a configuration signed with that key whose calls the spy
// records.
func rotSelfWorld(t *testing.T) (*rotWorld, keyrotate.AccessKey, *rotSignedBy, aws.Config) {
	t.Helper()
	w := newRotWorld(t, "self")
	if _, err := w.iam.AttachUserPolicy(context.Background(), &iam.AttachUserPolicyInput{UserName: aws.String("self"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMFullAccess")}); err != nil {
		t.Fatal(err)
	}
	a := w.addKey(types.StatusTypeActive)
	spy := &rotSignedBy{ops: map[string][]string{}}
	cfg := w.admin.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(a.AccessKeyID, a.Secret.Reveal(), "")
	cfg.APIOptions = append(cfg.APIOptions, spy.apiOption)
	return w, a, spy, cfg
}

// A user rotating their own key: the calls after delivery are signed with
// the new key (AWS rejects the deactivated old one; moto would not).
func TestRotateOwnKeySignsLaterStepsWithNewKey(t *testing.T) {
	ctx := context.Background()
	w, a, spy, cfg := rotSelfWorld(t)
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

// A user rotating their own key, interrupted after the delivery (Ctrl-C):
// the re-run, still signed with the old key, is refused unless it can sign
// the remaining steps with the delivered key (Options.DeliveredKey); with
// it, every step after planning is signed with the delivered key.
func TestRotateOwnKeyResumedSignsWithDeliveredKey(t *testing.T) {
	ctx := context.Background()
	w, a, spy, cfg := rotSelfWorld(t)
	clients := keyrotate.SelfClientsFromConfig(cfg)

	cctx, cancel := context.WithCancel(ctx)
	_, err := keyrotate.RotateAccessKey(cctx, clients, "self", func(o *keyrotate.Options) {
		o.Verify, o.InUseKeyID = rotFast, a.AccessKeyID
		o.Deliver = func(ctx context.Context, k keyrotate.AccessKey) error {
			err := w.deliver(ctx, k)
			cancel()
			return err
		}
	})
	cancel()
	var se *awsguard.StepError
	if !errors.As(err, &se) || se.Step != keyrotate.ActionRecordDelivery {
		t.Fatalf("interrupted run: err = %v", err)
	}
	nk, _ := w.lastDelivered()

	// Signed with the old key and no way to the delivered one: refused,
	// naming the key to sign with, and nothing changed.
	_, err = keyrotate.RotateAccessKey(ctx, clients, "self", func(o *keyrotate.Options) {
		o.Deliver, o.Verify, o.InUseKeyID = w.deliver, rotFast, nk.AccessKeyID
	})
	if !errors.Is(err, keyrotate.ErrRotationInProgress) || !strings.Contains(err.Error(), nk.AccessKeyID) {
		t.Fatalf("re-run without the delivered key: err = %v", err)
	}
	if w.status(a.AccessKeyID) != types.StatusTypeActive || w.status(nk.AccessKeyID) != types.StatusTypeActive {
		t.Fatalf("the refused re-run changed keys: %v", w.keys())
	}

	spy.mu.Lock()
	spy.ops = map[string][]string{}
	spy.mu.Unlock()
	rot, err := keyrotate.RotateAccessKey(ctx, clients, "self", func(o *keyrotate.Options) {
		o.Deliver, o.Verify, o.InUseKeyID, o.DeleteOld = w.deliver, rotFast, nk.AccessKeyID, true
		o.DeliveredKey = func(_ context.Context, id string) (keyrotate.AccessKey, bool) {
			k, ok := w.lastDelivered()
			return k, ok && k.AccessKeyID == id
		}
	})
	if err != nil || !rot.Resumed {
		t.Fatalf("resumed run: %+v, %v", rot, err)
	}
	for _, op := range []string{"IAM.TagUser", "IAM.UpdateAccessKey", "IAM.DeleteAccessKey", "IAM.UntagUser"} {
		got := spy.ops[op]
		if len(got) == 0 {
			t.Errorf("%s not called", op)
		}
		for _, k := range got {
			if k != nk.AccessKeyID {
				t.Errorf("%s signed by %v, want %s", op, got, nk.AccessKeyID)
			}
		}
	}
	if got := w.keys(); len(got) != 1 || got[0].ID != nk.AccessKeyID || got[0].Status != types.StatusTypeActive {
		t.Errorf("keys: %v", got)
	}
}

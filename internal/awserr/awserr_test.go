package awserr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func responseError(status int, cause error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      cause,
	}}
}

func TestIsBadCredentials(t *testing.T) {
	code := func(c string) error { return &smithy.GenericAPIError{Code: c, Message: "m"} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"InvalidClientTokenId", code("InvalidClientTokenId"), true},
		{"InvalidAccessKeyId", code("InvalidAccessKeyId"), true},
		{"AuthFailure", code("AuthFailure"), true},
		{"SignatureDoesNotMatch", code("SignatureDoesNotMatch"), true},
		{"UnrecognizedClientException", code("UnrecognizedClientException"), true},
		{"ExpiredToken", code("ExpiredToken"), true},
		{"ExpiredTokenException", code("ExpiredTokenException"), true},
		{"case folded", code("invalidclienttokenid"), true},
		{"wrapped", fmt.Errorf("op: %w", code("InvalidClientTokenId")), true},
		{"AccessDenied is a working key", code("AccessDenied"), false},
		{"AccessDenied with 403", responseError(403, code("AccessDenied")), false},
		{"bare 403", responseError(403, errors.New("no body")), true},
		{"bare 401", responseError(401, errors.New("no body")), true},
		{"UnknownError with 403", responseError(403, code("UnknownError")), true},
		{"500", responseError(500, errors.New("boom")), false},
		{"plain error", errors.New("dial tcp: refused"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsBadCredentials(tt.err); got != tt.want {
				t.Errorf("IsBadCredentials(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestCode(t *testing.T) {
	err := fmt.Errorf("x: %w", &smithy.GenericAPIError{Code: "NoSuchEntity"})
	if Code(err) != "NoSuchEntity" || Code(errors.New("x")) != "" || Code(nil) != "" {
		t.Error("Code wrong")
	}
	if !HasCode(err, "EntityAlreadyExists", "NoSuchEntity") || HasCode(err, "Other") || HasCode(errors.New("x"), "") {
		t.Error("HasCode wrong")
	}
}

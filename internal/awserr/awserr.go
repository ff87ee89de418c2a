// Package awserr classifies AWS errors in one place: refused credentials,
// error codes, not-found answers. The packages and the example programs
// all ask it, so that a new credential error code is learnt once.
package awserr

import (
	"errors"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// badCredentialCodes are the error codes with which AWS services reject an
// access key that does not exist (yet), a secret that does not match, or
// an expired session: IAM and STS say InvalidClientTokenId, S3
// InvalidAccessKeyId, EC2 AuthFailure, JSON services
// UnrecognizedClientException; expired session tokens give ExpiredToken or
// ExpiredTokenException.
var badCredentialCodes = []string{
	"InvalidClientTokenId",
	"InvalidAccessKeyId",
	"AuthFailure",
	"SignatureDoesNotMatch",
	"UnrecognizedClientException",
	"ExpiredToken",
	"ExpiredTokenException",
	"RequestExpired",
}

// IsBadCredentials reports whether err says AWS refused the credentials
// the call was signed with.
//
// A 401 or 403 whose body has no error code the SDK could decode counts
// too: some endpoints (and emulators) answer an unknown key with a bare
// status. A decoded AccessDenied is not bad credentials: the key works and
// lacks permission.
func IsBadCredentials(err error) bool {
	if err == nil {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		for _, c := range badCredentialCodes {
			if strings.EqualFold(code, c) {
				return true
			}
		}
		if code != "" && code != "UnknownError" {
			return false
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		s := re.HTTPStatusCode()
		return s == 401 || s == 403
	}
	return false
}

// Code returns the AWS error code of err, or "".
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// HasCode reports whether err carries one of the AWS error codes.
func HasCode(err error, codes ...string) bool {
	c := Code(err)
	if c == "" {
		return false
	}
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

package waf

import (
	"errors"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// httpStatus returns the HTTP status of an AWS error response, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

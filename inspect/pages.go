package inspect

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// DefaultMaxPages bounds every paginated list.
const DefaultMaxPages = 1000

// paginate calls page with each NextToken until one comes back empty. An
// empty page that still carries a token is followed like any other. It
// stops with ErrTooManyPages after maxPages pages or when a token repeats
// (a service that would loop for ever), and returns page's first error.
func paginate(ctx context.Context, op string, maxPages int, page func(ctx context.Context, token *string) (next *string, err error)) error {
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	var token *string
	seen := map[string]bool{}
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		next, err := page(ctx, token)
		if err != nil {
			return err
		}
		t := aws.ToString(next)
		if t == "" {
			return nil
		}
		if seen[t] {
			return fmt.Errorf("%w: %s returned the same NextToken twice", ErrTooManyPages, op)
		}
		if n >= maxPages {
			return fmt.Errorf("%w: %s still had more after %d pages", ErrTooManyPages, op, maxPages)
		}
		seen[t] = true
		token = aws.String(t)
	}
}

func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

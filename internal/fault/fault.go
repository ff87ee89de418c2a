// Package fault injects failures into the calls of any SDK client, through
// a middleware added with APIOptions, to prove that a workflow interrupted
// at any step either finishes on retry or rolls back and loses nothing.
//
//	inj := fault.New(fault.Rule{Service: "IAM", Operation: "CreateAccessKey", Nth: 1, Kind: fault.ResponseLost})
//	cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
//
// The middleware sits next to the wire, inside the client's retryer and
// deserializer: a synthetic error response is decoded by the SDK exactly as
// a real one would be (typed exceptions, smithy.APIError,
// *awshttp.ResponseError with its status), and the client's retryer sees
// throttling, 500s and cut connections as it would in production.
//
// To sweep a workflow, run it once with an Injector without rules, read
// Calls to learn how many calls it makes, then run it again for each k with
// Rule{Nth: k} (any service, any operation): the k-th call fails.
package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is a kind of failure.
type Kind int

// The failures an Injector can make.
const (
	// Throttle answers with the service's throttling error (HTTP 400,
	// Throttling, RequestLimitExceeded or ThrottlingException by protocol).
	Throttle Kind = iota + 1
	// ServerError answers HTTP 500 InternalFailure.
	ServerError
	// ConnectionReset cuts the connection before the request reaches the
	// service: nothing takes effect.
	ConnectionReset
	// APIError answers with Rule.Code and Rule.Status (default 400).
	APIError
	// ResponseLost sends the request, so that it takes effect, then drops the
	// response and reports a cut connection.
	ResponseLost
)

func (k Kind) String() string {
	switch k {
	case Throttle:
		return "throttle"
	case ServerError:
		return "server-error"
	case ConnectionReset:
		return "connection-reset"
	case APIError:
		return "api-error"
	case ResponseLost:
		return "response-lost"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Kinds lists every kind, for sweeps.
var Kinds = []Kind{Throttle, ServerError, ConnectionReset, APIError, ResponseLost}

// Rule says which calls fail and how.
type Rule struct {
	// Service is the SDK's service ID ("IAM", "STS", "Secrets Manager");
	// empty matches every service.
	Service string
	// Operation is the operation name ("CreateAccessKey"); empty matches
	// every operation.
	Operation string
	// Nth is the matching call (counted from 1) that fails; 0 makes every
	// matching call fail.
	Nth int
	// Times is how many consecutive matching calls fail from the Nth on;
	// 0 means one.
	Times int
	Kind  Kind
	// Code, Status and Message shape an APIError; Status defaults to 400.
	Code    string
	Status  int
	Message string
}

func (r Rule) String() string {
	s, op := r.Service, r.Operation
	if s == "" {
		s = "*"
	}
	if op == "" {
		op = "*"
	}
	out := fmt.Sprintf("%s.%s#%d %s", s, op, r.Nth, r.Kind)
	if r.Kind == APIError {
		out += " " + r.Code
	}
	return out
}

// Call is one call seen by the injector.
type Call struct {
	Seq       int // 1-based position among all calls seen
	Service   string
	Operation string
	// Fault is the failure injected into this call, or 0.
	Fault Kind
}

// Injector fails the calls its rules choose. It is safe for concurrent use.
type Injector struct {
	mu    sync.Mutex
	rules []*ruleState
	calls []Call
}

type ruleState struct {
	Rule
	seen int
}

// New returns an injector with the given rules.
func New(rules ...Rule) *Injector {
	i := &Injector{}
	for _, r := range rules {
		i.Add(r)
	}
	return i
}

// Add adds a rule. A call is failed by the first rule that chooses it.
func (i *Injector) Add(r Rule) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules = append(i.rules, &ruleState{Rule: r})
}

// Calls returns every call seen so far, in order.
func (i *Injector) Calls() []Call {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]Call(nil), i.calls...)
}

// Injected returns the calls that were failed.
func (i *Injector) Injected() []Call {
	var out []Call
	for _, c := range i.Calls() {
		if c.Fault != 0 {
			out = append(out, c)
		}
	}
	return out
}

// decide records a call and returns the rule that fails it, if any.
func (i *Injector) decide(service, op string) (Rule, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	c := Call{Seq: len(i.calls) + 1, Service: service, Operation: op}
	var hit *ruleState
	for _, r := range i.rules {
		if (r.Service != "" && r.Service != service) || (r.Operation != "" && r.Operation != op) {
			continue
		}
		r.seen++
		times := max(r.Times, 1)
		if hit == nil && (r.Nth == 0 || (r.seen >= r.Nth && r.seen < r.Nth+times)) {
			hit = r
		}
	}
	if hit != nil {
		c.Fault = hit.Kind
	}
	i.calls = append(i.calls, c)
	if hit == nil {
		return Rule{}, false
	}
	return hit.Rule, true
}

// APIOption adds the injecting middleware to a client's stack. Append it to
// aws.Config.APIOptions or to a client's Options.APIOptions.
func (i *Injector) APIOption(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("awsguardFaultInjector", i.handle), middleware.After)
}

func (i *Injector) handle(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	rule, ok := i.decide(service, op)
	if !ok {
		return next.HandleDeserialize(ctx, in)
	}
	req, _ := in.Request.(*smithyhttp.Request)
	switch rule.Kind {
	case ConnectionReset:
		return middleware.DeserializeOutput{}, middleware.Metadata{}, &InjectedError{Kind: ConnectionReset, Err: cutConnection(req, "write")}
	case ResponseLost:
		out, md, err := next.HandleDeserialize(ctx, in)
		if err != nil {
			return out, md, err
		}
		if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.Body != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return middleware.DeserializeOutput{}, md, &InjectedError{Kind: ResponseLost, Err: cutConnection(req, "read")}
	}
	status, code, msg := 400, rule.Code, rule.Message
	switch rule.Kind {
	case Throttle:
		code = throttleCode(service, req)
		msg = "Rate exceeded"
	case ServerError:
		status, code, msg = 500, "InternalFailure", "We encountered an internal error. Please try again."
		if service == "EC2" {
			code = "InternalError"
		}
	case APIError:
		if rule.Status != 0 {
			status = rule.Status
		}
	}
	if msg == "" {
		msg = "injected fault"
	}
	return middleware.DeserializeOutput{RawResponse: errorResponse(service, req, status, code, msg)}, middleware.Metadata{}, nil
}

// InjectedError is the error of a call failed by an Injector without a
// response (ConnectionReset, ResponseLost). It unwraps to the error the
// SDK's transport would give, so errors.As still finds
// *smithyhttp.RequestSendError; IsInjected tells it from a real one.
type InjectedError struct {
	Kind Kind
	Err  error
}

func (e *InjectedError) Error() string { return e.Err.Error() + " (injected " + e.Kind.String() + ")" }

func (e *InjectedError) Unwrap() error { return e.Err }

// InjectedRequestID is the request ID of every synthetic error response.
const InjectedRequestID = "awsguard-fault-injected"

// IsInjected reports whether err is, or wraps, a fault an Injector made:
// a cut connection or lost response (*InjectedError), or an error
// response it synthesised (request ID InjectedRequestID).
func IsInjected(err error) bool {
	var ie *InjectedError
	if errors.As(err, &ie) {
		return true
	}
	var rid interface{ ServiceRequestID() string }
	return errors.As(err, &rid) && rid.ServiceRequestID() == InjectedRequestID
}

// cutConnection returns the error the SDK's HTTP transport gives when a
// connection is reset while writing the request or reading the response.
func cutConnection(req *smithyhttp.Request, op string) error {
	u := ""
	method := http.MethodPost
	if req != nil && req.URL != nil {
		u, method = req.URL.String(), req.Method
	}
	return &smithyhttp.RequestSendError{Err: &url.Error{Op: method[:1] + strings.ToLower(method[1:]), URL: u,
		Err: &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, syscall.ECONNRESET)}}}
}

type protocol int

const (
	protoQuery protocol = iota
	protoEC2
	protoJSON
	protoRestXML
)

func protocolOf(service string, req *smithyhttp.Request) protocol {
	if service == "EC2" {
		return protoEC2
	}
	if req == nil {
		return protoJSON
	}
	ct := req.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		return protoQuery
	case req.Header.Get("X-Amz-Target") != "", strings.Contains(ct, "json"):
		return protoJSON
	case service == "Route 53" || service == "S3" || service == "CloudFront":
		return protoRestXML
	}
	return protoJSON
}

func throttleCode(service string, req *smithyhttp.Request) string {
	switch protocolOf(service, req) {
	case protoEC2:
		return "RequestLimitExceeded"
	case protoQuery, protoRestXML:
		return "Throttling"
	}
	return "ThrottlingException"
}

// errorResponse builds an error response in the service's protocol, so that
// the SDK's own deserializer turns it into the typed error.
func errorResponse(service string, req *smithyhttp.Request, status int, code, msg string) *smithyhttp.Response {
	const requestID = InjectedRequestID
	code, msg = html.EscapeString(code), html.EscapeString(msg)
	h := http.Header{}
	h.Set("X-Amzn-Requestid", requestID)
	var body string
	switch protocolOf(service, req) {
	case protoEC2:
		h.Set("Content-Type", "text/xml")
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`, code, msg, requestID)
	case protoQuery, protoRestXML:
		h.Set("Content-Type", "text/xml")
		typ := "Sender"
		if status >= 500 {
			typ = "Receiver"
		}
		body = fmt.Sprintf(`<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, typ, code, msg, requestID)
	default:
		h.Set("Content-Type", "application/x-amz-json-1.1")
		h.Set("X-Amzn-Errortype", code)
		b, _ := json.Marshal(map[string]string{"__type": html.UnescapeString(code), "message": html.UnescapeString(msg)})
		body = string(b)
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	return &smithyhttp.Response{Response: &http.Response{
		StatusCode:    status,
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader([]byte(body))),
		ContentLength: int64(len(body)),
	}}
}

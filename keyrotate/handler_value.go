package keyrotate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/awsguard/awsguard"
)

// The JSON member names of a rotated secret's value. The document is
//
//	{"UserName": "app", "AccessKeyId": "AKIA...", "SecretAccessKey": "..."}
//
// Other members are kept as they are when the handler writes a new version.
const (
	FieldUserName        = "UserName"
	FieldAccessKeyID     = "AccessKeyId"
	FieldSecretAccessKey = "SecretAccessKey"
)

// EncodeSecretValue returns the JSON document that holds key, with the
// secret access key in clear: that is what the secret is for. extra, if not
// empty, is an earlier document whose other members are kept.
func EncodeSecretValue(key AccessKey, extra string) (string, error) {
	doc := map[string]json.RawMessage{}
	if strings.TrimSpace(extra) != "" {
		if err := json.Unmarshal([]byte(extra), &doc); err != nil {
			return "", fmt.Errorf("%w: %v", ErrSecretValue, jsonErrorWithoutData(err))
		}
	}
	for name, v := range map[string]string{
		FieldUserName:        key.UserName,
		FieldAccessKeyID:     key.AccessKeyID,
		FieldSecretAccessKey: key.Secret.Reveal(),
	} {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		doc[name] = b
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// DecodeSecretValue reads a document written by EncodeSecretValue. The
// error never contains the document.
func DecodeSecretValue(s string) (AccessKey, error) {
	var doc struct {
		UserName        *string `json:"UserName"`
		AccessKeyID     *string `json:"AccessKeyId"`
		SecretAccessKey *string `json:"SecretAccessKey"`
	}
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return AccessKey{}, fmt.Errorf("%w: %v", ErrSecretValue, jsonErrorWithoutData(err))
	}
	var missing []string
	if doc.UserName == nil || *doc.UserName == "" {
		missing = append(missing, FieldUserName)
	}
	if doc.AccessKeyID == nil || *doc.AccessKeyID == "" {
		missing = append(missing, FieldAccessKeyID)
	}
	if doc.SecretAccessKey == nil || *doc.SecretAccessKey == "" {
		missing = append(missing, FieldSecretAccessKey)
	}
	if len(missing) > 0 {
		return AccessKey{}, fmt.Errorf("%w: missing %s", ErrSecretValue, strings.Join(missing, ", "))
	}
	return AccessKey{UserName: *doc.UserName, AccessKeyID: *doc.AccessKeyID, Secret: awsguard.NewSecret(*doc.SecretAccessKey)}, nil
}

// jsonErrorWithoutData keeps the kind of a JSON error but drops anything
// that could quote the document (a syntax error's message does not, a type
// error's names only the field).
func jsonErrorWithoutData(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("not JSON (offset %d)", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("member %q is a JSON %s", e.Field, e.Value)
	}
	return "not a JSON object"
}

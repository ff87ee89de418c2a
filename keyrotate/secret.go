package keyrotate

import (
	"time"

	"github.com/awsguard/awsguard"
)

// AccessKey is an IAM access key pair. Its secret half is an
// awsguard.Secret, which redacts itself in every format; Secret.Reveal
// returns it.
type AccessKey struct {
	UserName    string
	AccessKeyID string
	Secret      awsguard.Secret
	CreateDate  time.Time
}

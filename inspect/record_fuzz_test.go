package inspect

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Record tags can be edited by anyone who may tag the group: reading them
// never panics, and what CloseExposure writes reads back as the same rule.
func FuzzParseRecord(f *testing.F) {
	f.Add("tcp", int32(22), int32(22), "0.0.0.0/0", "ssh for all", "203.0.113.0/24", "")
	f.Add("-1", int32(0), int32(0), "::/0", "", "", "")
	f.Add("6", int32(0), int32(65535), "pl-0123", strings.Repeat("é", 300), "10.0.0.0/8", "awsguard:revoked:tcp:x-y:")
	f.Fuzz(func(t *testing.T, proto string, from, to int32, source, desc, replacedBy, rawKey string) {
		// Whatever a tag holds, it reads without a panic.
		_, _, _ = parseRecord("sg-1", RecordTagPrefix+rawKey, desc)
		// AWS hands out descriptions (and the CIDR is validated) as UTF-8.
		if !utf8.ValidString(desc) || !utf8.ValidString(replacedBy) || proto == "" || strings.Contains(proto, ":") || from < 0 || to < 0 {
			return
		}
		r := SGRule{Group: "sg-1", Protocol: proto, FromPort: from, ToPort: to, Description: desc}
		if strings.HasPrefix(source, "pl-") {
			r.PrefixListID = source
		} else if familyOf(source) != "" && !strings.Contains(source, " ") {
			r.CIDR = source
		} else {
			return
		}
		v := recordValue(r, replacedBy)
		if len(v) > 256 && desc != "" {
			t.Fatalf("record value of %d bytes", len(v))
		}
		got, rec, err := parseRecord("sg-1", recordKey(r), v)
		if err != nil {
			t.Fatalf("parse %q %q: %v", recordKey(r), v, err)
		}
		if got.source() != r.source() || protocolNumber(got.Protocol) != protocolNumber(r.Protocol) || rec.ReplacedBy != replacedBy {
			t.Fatalf("round trip: %+v %+v -> %+v %+v", r, replacedBy, got, rec)
		}
		if protocolNumber(proto) != "-1" && (got.FromPort != from || got.ToPort != to) {
			t.Fatalf("ports %d-%d -> %d-%d", from, to, got.FromPort, got.ToPort)
		}
		if !strings.HasPrefix(desc, got.Description) {
			t.Fatalf("description %q -> %q", desc, got.Description)
		}
	})
}

package observe_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/observe"
)

// Each preset's configuration (and one with custom files) is the golden
// one, and passes validation.
func TestBuildAgentConfigGolden(t *testing.T) {
	cases := map[string]observe.AgentConfig{
		"httpd-amazon-linux": {WebServers: []observe.WebServer{observe.HTTPDAmazonLinux}},
		"httpd-debian":       {WebServers: []observe.WebServer{observe.HTTPDDebian}},
		"nginx":              {WebServers: []observe.WebServer{observe.Nginx}},
		"custom": {
			WebServers: []observe.WebServer{observe.Nginx}, LogGroupPrefix: "/web", RetentionDays: 365,
			MetricsIntervalSeconds: 30, RunAsUser: "cwagent",
			Files: []observe.LogFile{{Path: "/srv/app/*.log", LogGroup: "/web/app", TimestampFormat: "%Y-%m-%dT%H:%M:%S%z",
				Timezone: "UTC", MultiLineStartPattern: "{timestamp_format}"}},
		},
		"logs-only": {WebServers: []observe.WebServer{observe.HTTPDDebian}, NoMetrics: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := observe.BuildAgentConfig(c)
			must(t, err)
			golden(t, "agent/"+name+".json", b)
			must(t, observe.ValidateAgentConfig(b))
			if !strings.Contains(string(b), `"log_stream_name": "{instance_id}"`) {
				t.Error("streams are not named after the instance ID")
			}
		})
	}
}

func TestBuildAgentConfigValidates(t *testing.T) {
	for _, tc := range []struct {
		c     observe.AgentConfig
		field string
	}{
		{observe.AgentConfig{WebServers: []observe.WebServer{"iis"}}, "AgentConfig.WebServers[0]"},
		{observe.AgentConfig{WebServers: []observe.WebServer{observe.Nginx, observe.Nginx}}, "AgentConfig.WebServers[1]"},
		{observe.AgentConfig{Files: []observe.LogFile{{Path: "relative.log", LogGroup: "/g"}}}, "AgentConfig.Files[0].Path"},
		{observe.AgentConfig{Files: []observe.LogFile{{Path: "/a.log", LogGroup: "bad group!"}}}, "AgentConfig.Files[0].LogGroup"},
		{observe.AgentConfig{Files: []observe.LogFile{{Path: "/a.log", LogGroup: "/g", TimestampFormat: "%Q"}}}, "AgentConfig.Files[0].TimestampFormat"},
		{observe.AgentConfig{Files: []observe.LogFile{{Path: "/a.log", LogGroup: "/g", Timezone: "KST"}}}, "AgentConfig.Files[0].Timezone"},
		{observe.AgentConfig{WebServers: []observe.WebServer{observe.Nginx}, RetentionDays: 2}, "AgentConfig.RetentionDays"},
		{observe.AgentConfig{NoMetrics: true}, "AgentConfig"},
	} {
		_, err := observe.BuildAgentConfig(tc.c)
		var ie *awsguard.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: err = %v, want field %s", tc.c, err, tc.field)
		}
	}
}

func TestValidateAgentConfigRefuses(t *testing.T) {
	for _, doc := range []string{
		`{}`,
		`{"logs":{"logs_collected":{"files":{"collect_list":[{"file_path":"/a","log_group_name":"/g","log_stream_nam":"x"}]}}}}`,
		`{"logs":{"logs_collected":{"files":{"collect_list":[{"file_path":"/a","log_group_name":"/g","log_stream_name":"{instance}"}]}}}}`,
		`{"logs":{"logs_collected":{"files":{"collect_list":[{"file_path":"/a","log_group_name":"/g","timestamp_format":"%s"}]}}}}`,
		`{"logs":{"logs_collected":{"files":{"collect_list":[{"file_path":"/a","log_group_name":"/g","retention_in_days":2}]}}}}`,
		`{"metrics":{"metrics_collected":{"mem":{"measurement":[]}}}}`,
		`{"agent":{"interval":60},"metrics":{"metrics_collected":{}}}`,
	} {
		if err := observe.ValidateAgentConfig([]byte(doc)); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
}

func FuzzValidateAgentConfig(f *testing.F) {
	b, _ := observe.BuildAgentConfig(observe.AgentConfig{WebServers: observe.WebServers()})
	f.Add(b)
	f.Add([]byte(`{"logs":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = observe.ValidateAgentConfig(b) // never panics
	})
}

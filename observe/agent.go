package observe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// WebServer names a preset of web server log files for the agent.
type WebServer string

// The web server presets.
const (
	// HTTPDAmazonLinux: Apache httpd on Amazon Linux, RHEL and their kin
	// (/var/log/httpd/access_log, error_log). The directory is readable
	// by root only: run the agent as root (AgentConfig.RunAsUser empty or
	// "root").
	HTTPDAmazonLinux WebServer = "httpd-amazon-linux"
	// HTTPDDebian: Apache on Debian and Ubuntu (/var/log/apache2/access.log,
	// error.log; group adm).
	HTTPDDebian WebServer = "httpd-debian"
	// Nginx: /var/log/nginx/access.log and error.log.
	Nginx WebServer = "nginx"
)

// WebServers lists the presets.
func WebServers() []WebServer { return []WebServer{HTTPDAmazonLinux, HTTPDDebian, Nginx} }

// Timestamp formats of the agent (strftime-like, as the agent documents).
const (
	// TimestampCommonLog is the access log time of httpd and nginx:
	// [10/Oct/2026:13:55:36 +0900].
	TimestampCommonLog = "%d/%b/%Y:%H:%M:%S %z"
	// TimestampHTTPDError is httpd 2.4's error log time: [Wed Oct 11
	// 14:32:52.123456 2026].
	TimestampHTTPDError = "%a %b %d %H:%M:%S.%f %Y"
	// TimestampNginxError is nginx's error log time: 2026/10/11 14:32:52.
	TimestampNginxError = "%Y/%m/%d %H:%M:%S"
)

// LogFile is one file the agent sends to CloudWatch Logs.
type LogFile struct {
	// Path is the file's absolute path; the agent accepts * and ** globs.
	Path string
	// LogGroup is the log group the events go to.
	LogGroup string
	// TimestampFormat, if set, is how the agent reads each event's time
	// (the Timestamp constants, or the agent's directives).
	TimestampFormat string
	// Timezone is "UTC" or "Local" (the default) for timestamps without a
	// zone.
	Timezone string
	// MultiLineStartPattern, if set, is a regular expression that starts
	// each event ("{timestamp_format}" means the timestamp).
	MultiLineStartPattern string
}

// AgentConfig asks for a unified CloudWatch agent configuration. Each log
// stream is named after the instance ID ({instance_id}).
type AgentConfig struct {
	// WebServers are the presets whose access and error logs are sent.
	WebServers []WebServer
	// Files are other files to send.
	Files []LogFile
	// LogGroupPrefix starts the log group names of the presets' files:
	// PREFIX/PRESET/access and PREFIX/PRESET/error; default "/awsguard".
	LogGroupPrefix string
	// RetentionDays, if set, is the retention the agent gives log groups
	// it creates: one of RetentionValues. EnsureLogGroups is the better
	// place to set it.
	RetentionDays int32
	// MetricsIntervalSeconds is how often memory and disk are measured;
	// default 60 (1..86400).
	MetricsIntervalSeconds int
	// Namespace of the metrics; default "CWAgent".
	Namespace string
	// RunAsUser is the user the agent runs as; empty leaves the agent's
	// default (root).
	RunAsUser string
	// NoMetrics leaves out the memory and disk metrics.
	NoMetrics bool
}

// The configuration's JSON: only fields the agent documents, so that
// ValidateAgentConfig can refuse any other.
type (
	agentJSON struct {
		Agent   *agentSection   `json:"agent,omitempty"`
		Metrics *metricsSection `json:"metrics,omitempty"`
		Logs    *logsSection    `json:"logs,omitempty"`
	}
	agentSection struct {
		MetricsCollectionInterval int    `json:"metrics_collection_interval,omitempty"`
		Logfile                   string `json:"logfile,omitempty"`
		RunAsUser                 string `json:"run_as_user,omitempty"`
		Debug                     bool   `json:"debug,omitempty"`
		Region                    string `json:"region,omitempty"`
		OmitHostname              bool   `json:"omit_hostname,omitempty"`
	}
	metricsSection struct {
		Namespace           string            `json:"namespace,omitempty"`
		AppendDimensions    map[string]string `json:"append_dimensions,omitempty"`
		AggregationDims     [][]string        `json:"aggregation_dimensions,omitempty"`
		MetricsCollected    metricsCollected  `json:"metrics_collected"`
		ForceFlushInterval  int               `json:"force_flush_interval,omitempty"`
		CredentialsRoleARN  map[string]string `json:"credentials,omitempty"`
		EndpointOverride    string            `json:"endpoint_override,omitempty"`
		MetricsDestinations map[string]any    `json:"metrics_destinations,omitempty"`
	}
	metricsCollected struct {
		Mem  *measurement `json:"mem,omitempty"`
		Disk *measurement `json:"disk,omitempty"`
		Swap *measurement `json:"swap,omitempty"`
		CPU  *measurement `json:"cpu,omitempty"`
	}
	measurement struct {
		Measurement               []string `json:"measurement"`
		MetricsCollectionInterval int      `json:"metrics_collection_interval,omitempty"`
		Resources                 []string `json:"resources,omitempty"`
		IgnoreFileSystemTypes     []string `json:"ignore_file_system_types,omitempty"`
		DropDevice                bool     `json:"drop_device,omitempty"`
		TotalCPU                  bool     `json:"totalcpu,omitempty"`
	}
	logsSection struct {
		LogsCollected      logsCollected `json:"logs_collected"`
		LogStreamName      string        `json:"log_stream_name,omitempty"`
		ForceFlushInterval int           `json:"force_flush_interval,omitempty"`
		EndpointOverride   string        `json:"endpoint_override,omitempty"`
	}
	logsCollected struct {
		Files *filesSection `json:"files,omitempty"`
	}
	filesSection struct {
		CollectList []collectEntry `json:"collect_list"`
	}
	collectEntry struct {
		FilePath              string `json:"file_path"`
		LogGroupName          string `json:"log_group_name"`
		LogStreamName         string `json:"log_stream_name,omitempty"`
		LogGroupClass         string `json:"log_group_class,omitempty"`
		RetentionInDays       int32  `json:"retention_in_days,omitempty"`
		TimestampFormat       string `json:"timestamp_format,omitempty"`
		Timezone              string `json:"timezone,omitempty"`
		MultiLineStartPattern string `json:"multi_line_start_pattern,omitempty"`
		Encoding              string `json:"encoding,omitempty"`
		AutoRemoval           bool   `json:"auto_removal,omitempty"`
		TrimTimestamp         bool   `json:"trim_timestamp,omitempty"`
		Filters               []struct {
			Type       string `json:"type"`
			Expression string `json:"expression"`
		} `json:"filters,omitempty"`
	}
)

var webServerFiles = map[WebServer][2]LogFile{
	HTTPDAmazonLinux: {
		{Path: "/var/log/httpd/access_log", TimestampFormat: TimestampCommonLog},
		{Path: "/var/log/httpd/error_log", TimestampFormat: TimestampHTTPDError},
	},
	HTTPDDebian: {
		{Path: "/var/log/apache2/access.log", TimestampFormat: TimestampCommonLog},
		{Path: "/var/log/apache2/error.log", TimestampFormat: TimestampHTTPDError},
	},
	Nginx: {
		{Path: "/var/log/nginx/access.log", TimestampFormat: TimestampCommonLog},
		{Path: "/var/log/nginx/error.log", TimestampFormat: TimestampNginxError},
	},
}

// InstanceStream is the agent's placeholder for the instance ID, the name
// of every log stream of the configuration.
const InstanceStream = "{instance_id}"

// LogFiles returns every file the configuration sends, presets first, with
// their log groups filled in.
func (c AgentConfig) LogFiles() []LogFile {
	prefix := c.LogGroupPrefix
	if prefix == "" {
		prefix = "/awsguard"
	}
	prefix = strings.TrimSuffix(prefix, "/")
	var out []LogFile
	for _, w := range c.WebServers {
		f := webServerFiles[w]
		f[0].LogGroup = prefix + "/" + string(w) + "/access"
		f[1].LogGroup = prefix + "/" + string(w) + "/error"
		out = append(out, f[0], f[1])
	}
	return append(out, c.Files...)
}

// LogGroups returns the configuration's log groups with the retention
// given, for EnsureLogGroups (which creates them before the agent does, so
// that they are tagged as observe's and keep their retention).
func (c AgentConfig) LogGroups(retentionDays int32) []LogGroup {
	var out []LogGroup
	seen := map[string]bool{}
	for _, f := range c.LogFiles() {
		if !seen[f.LogGroup] {
			seen[f.LogGroup] = true
			out = append(out, LogGroup{Name: f.LogGroup, RetentionDays: retentionDays})
		}
	}
	return out
}

var (
	timestampDirectiveRE = regexp.MustCompile(`%-?[A-Za-z]`)
	agentDirectives      = []string{"%y", "%Y", "%b", "%B", "%d", "%-d", "%m", "%-m", "%A", "%a", "%H", "%-H", "%I", "%-I", "%p", "%M", "%-M", "%S", "%-S", "%f", "%Z", "%z", "%j"}
	streamPlaceholderRE  = regexp.MustCompile(`\{[a-z_]+\}`)
	streamPlaceholders   = []string{"{instance_id}", "{hostname}", "{local_hostname}", "{ip_address}"}
)

func (c AgentConfig) validate(op string) error {
	for i, w := range c.WebServers {
		if _, ok := webServerFiles[w]; !ok {
			return inputErr(op, fmt.Sprintf("AgentConfig.WebServers[%d]", i), string(w), fmt.Sprint("one of ", WebServers()))
		}
		if slices.Index(c.WebServers, w) != i {
			return inputErr(op, fmt.Sprintf("AgentConfig.WebServers[%d]", i), string(w), "each preset once")
		}
	}
	if c.LogGroupPrefix != "" && (!strings.HasPrefix(c.LogGroupPrefix, "/") || !logGroupRE.MatchString(c.LogGroupPrefix)) {
		return inputErr(op, "AgentConfig.LogGroupPrefix", c.LogGroupPrefix, "a log group name prefix starting with /")
	}
	if c.RetentionDays != 0 && !slices.Contains(RetentionValues, c.RetentionDays) {
		return inputErr(op, "AgentConfig.RetentionDays", fmt.Sprint(c.RetentionDays), fmt.Sprint("0 or one of ", RetentionValues))
	}
	if c.MetricsIntervalSeconds < 0 || c.MetricsIntervalSeconds > 86400 {
		return inputErr(op, "AgentConfig.MetricsIntervalSeconds", fmt.Sprint(c.MetricsIntervalSeconds), "0 (60) or 1..86400")
	}
	if strings.HasPrefix(c.Namespace, "AWS/") || len(c.Namespace) > 255 {
		return inputErr(op, "AgentConfig.Namespace", c.Namespace, "a custom namespace, not AWS/...")
	}
	files := c.LogFiles()
	if len(files) == 0 && c.NoMetrics {
		return inputErr(op, "AgentConfig", "{}", "at least one web server, file or the metrics")
	}
	paths := map[string]bool{}
	for i, f := range files {
		field := fmt.Sprintf("AgentConfig.Files[%d]", i-2*len(c.WebServers))
		if i < 2*len(c.WebServers) {
			field = fmt.Sprintf("AgentConfig.WebServers[%d]", i/2)
		}
		if !strings.HasPrefix(f.Path, "/") || strings.ContainsAny(f.Path, "\x00\n") {
			return inputErr(op, field+".Path", f.Path, "an absolute file path (globs allowed)")
		}
		if paths[f.Path] {
			return inputErr(op, field+".Path", f.Path, "each file once")
		}
		paths[f.Path] = true
		if !logGroupRE.MatchString(f.LogGroup) {
			return inputErr(op, field+".LogGroup", f.LogGroup, "a log group name of 1 to 256 of letters, digits and . - _ / #")
		}
		if msg := checkTimestampFormat(f.TimestampFormat); msg != "" {
			return inputErr(op, field+".TimestampFormat", f.TimestampFormat, msg)
		}
		if f.Timezone != "" && f.Timezone != "UTC" && f.Timezone != "Local" {
			return inputErr(op, field+".Timezone", f.Timezone, `"", "UTC" or "Local"`)
		}
		if f.MultiLineStartPattern != "" && f.MultiLineStartPattern != "{timestamp_format}" {
			if _, err := regexp.Compile(f.MultiLineStartPattern); err != nil {
				return inputErr(op, field+".MultiLineStartPattern", f.MultiLineStartPattern, "a regular expression or {timestamp_format}")
			}
		}
	}
	return nil
}

// checkTimestampFormat returns what is wrong with a timestamp format, or "".
func checkTimestampFormat(f string) string {
	for _, d := range timestampDirectiveRE.FindAllString(f, -1) {
		if !slices.Contains(agentDirectives, d) {
			return "a format of the agent's directives " + strings.Join(agentDirectives, " ") + "; " + d + " is not one"
		}
	}
	return ""
}

// BuildAgentConfig returns the unified CloudWatch agent's JSON
// configuration: each file to its log group, in a stream named after the
// instance ID, with its timestamp format; memory (mem_used_percent) and
// disk (used_percent of every mounted file system but the virtual ones)
// metrics with the instance ID as a dimension. The output is stable (the
// same input gives the same bytes) and passes ValidateAgentConfig. Store
// it in SSM Parameter Store (a name starting AmazonCloudWatch-) and apply
// it with the AmazonCloudWatch-ManageAgent document, or write it to
// /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json.
func BuildAgentConfig(c AgentConfig) ([]byte, error) {
	const op = "observe.BuildAgentConfig"
	if err := c.validate(op); err != nil {
		return nil, err
	}
	interval := c.MetricsIntervalSeconds
	if interval == 0 {
		interval = 60
	}
	doc := agentJSON{Agent: &agentSection{MetricsCollectionInterval: interval, RunAsUser: c.RunAsUser}}
	if !c.NoMetrics {
		ns := c.Namespace
		if ns == "" {
			ns = "CWAgent"
		}
		doc.Metrics = &metricsSection{
			Namespace:        ns,
			AppendDimensions: map[string]string{"InstanceId": "${aws:InstanceId}"},
			MetricsCollected: metricsCollected{
				Mem: &measurement{Measurement: []string{"mem_used_percent"}},
				Disk: &measurement{Measurement: []string{"used_percent"}, Resources: []string{"*"},
					IgnoreFileSystemTypes: []string{"sysfs", "devtmpfs", "tmpfs", "overlay", "squashfs"}, DropDevice: true},
			},
		}
	}
	if files := c.LogFiles(); len(files) > 0 {
		fs := &filesSection{}
		for _, f := range files {
			fs.CollectList = append(fs.CollectList, collectEntry{
				FilePath: f.Path, LogGroupName: f.LogGroup, LogStreamName: InstanceStream,
				RetentionInDays: c.RetentionDays, TimestampFormat: f.TimestampFormat, Timezone: f.Timezone,
				MultiLineStartPattern: f.MultiLineStartPattern,
			})
		}
		doc.Logs = &logsSection{LogsCollected: logsCollected{Files: fs}}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ValidateAgentConfig checks a unified CloudWatch agent configuration
// against the fields the agent documents: no unknown field in the agent,
// metrics and logs sections, each collected file with file_path and
// log_group_name, known log stream placeholders, timestamp formats of the
// agent's directives, retention among RetentionValues, timezone UTC or
// Local. It returns the first problem found.
func ValidateAgentConfig(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc agentJSON
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("observe: agent configuration: %w", err)
	}
	if doc.Metrics == nil && doc.Logs == nil {
		return fmt.Errorf("observe: agent configuration: neither metrics nor logs")
	}
	if doc.Logs != nil {
		if doc.Logs.LogsCollected.Files == nil || len(doc.Logs.LogsCollected.Files.CollectList) == 0 {
			return fmt.Errorf("observe: agent configuration: logs.logs_collected.files.collect_list is empty")
		}
		for i, e := range doc.Logs.LogsCollected.Files.CollectList {
			where := fmt.Sprintf("observe: agent configuration: collect_list[%d]", i)
			switch {
			case !strings.HasPrefix(e.FilePath, "/"):
				return fmt.Errorf("%s: file_path %q: want an absolute path", where, e.FilePath)
			case !logGroupRE.MatchString(e.LogGroupName):
				return fmt.Errorf("%s: log_group_name %q: want a log group name", where, e.LogGroupName)
			case e.RetentionInDays != 0 && !slices.Contains(RetentionValues, e.RetentionInDays):
				return fmt.Errorf("%s: retention_in_days %d: want one of %v", where, e.RetentionInDays, RetentionValues)
			case e.Timezone != "" && e.Timezone != "UTC" && e.Timezone != "Local":
				return fmt.Errorf("%s: timezone %q: want UTC or Local", where, e.Timezone)
			case e.LogGroupClass != "" && e.LogGroupClass != "STANDARD" && e.LogGroupClass != "INFREQUENT_ACCESS":
				return fmt.Errorf("%s: log_group_class %q: want STANDARD or INFREQUENT_ACCESS", where, e.LogGroupClass)
			}
			if msg := checkTimestampFormat(e.TimestampFormat); msg != "" {
				return fmt.Errorf("%s: timestamp_format %q: want %s", where, e.TimestampFormat, msg)
			}
			for _, p := range streamPlaceholderRE.FindAllString(e.LogStreamName, -1) {
				if !slices.Contains(streamPlaceholders, p) {
					return fmt.Errorf("%s: log_stream_name %q: placeholder %s is not one of %v", where, e.LogStreamName, p, streamPlaceholders)
				}
			}
		}
	}
	if m := doc.Metrics; m != nil {
		mc := m.MetricsCollected
		for i, x := range []*measurement{mc.Mem, mc.Disk, mc.Swap, mc.CPU} {
			if x != nil && len(x.Measurement) == 0 {
				return fmt.Errorf("observe: agent configuration: metrics_collected.%s has no measurement", []string{"mem", "disk", "swap", "cpu"}[i])
			}
		}
	}
	return nil
}

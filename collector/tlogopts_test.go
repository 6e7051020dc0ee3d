package collector

import (
	"testing"

	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
)

// TestTlogOptions: [log] storage picks the folder or the AWS driver, and
// the database password comes from the environment.
func TestTlogOptions(t *testing.T) {
	t.Parallel()
	paths := config.Paths{Transparency: "/data/log"}
	aws := &config.LogAWS{Bucket: "consent-logs", Prefix: "site-a/log", Endpoint: "http://127.0.0.1:9000", Region: "eu-central-1",
		MySQLDSN: "chatconsent@tcp(db:3306)/site_a"}
	env := func(pw string) func(string) string {
		return func(k string) string {
			if k == config.MySQLPasswordEnv {
				return pw
			}
			return ""
		}
	}
	tests := []struct {
		name string
		lc   config.Log
		pw   string
		want *translog.AWSOptions
	}{
		{"posix", config.Log{Storage: config.StoragePOSIX}, "x", nil},
		{"aws", config.Log{Storage: config.StorageAWS, AWS: aws}, "", &translog.AWSOptions{Bucket: "consent-logs", Prefix: "site-a/log",
			Endpoint: "http://127.0.0.1:9000", Region: "eu-central-1", DSN: "chatconsent@tcp(db:3306)/site_a"}},
		{"aws with password", config.Log{Storage: config.StorageAWS, AWS: aws}, "pw", &translog.AWSOptions{Bucket: "consent-logs", Prefix: "site-a/log",
			Endpoint: "http://127.0.0.1:9000", Region: "eu-central-1", DSN: "chatconsent:pw@tcp(db:3306)/site_a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tlogOptions(tt.lc, paths, translog.Key{}, env(tt.pw))
			if err != nil {
				t.Fatal(err)
			}
			if got.Dir != "/data/log" {
				t.Errorf("Dir = %q", got.Dir)
			}
			switch {
			case tt.want == nil && got.AWS != nil:
				t.Errorf("AWS = %+v, want none", got.AWS)
			case tt.want != nil && (got.AWS == nil || *got.AWS != *tt.want):
				t.Errorf("AWS = %+v, want %+v", got.AWS, tt.want)
			}
		})
	}
}

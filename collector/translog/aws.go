package translog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/transparency-dev/tessera"
	tessaws "github.com/transparency-dev/tessera/storage/aws"
)

// AWSOptions select Tessera's AWS driver (storage/aws) instead of the POSIX
// folder: a MySQL-compatible database (Aurora, MySQL, MariaDB) sequences and
// coordinates, an S3-compatible bucket holds the published files (the same
// tlog-tiles names as the folder: "checkpoint", "tile/...").
//
// The database holds Tessera's tables (Tessera, SeqCoord, Seq, IntCoord,
// PubCoord, GCCoord) under fixed names, so each log needs its own database
// (the DSN's /dbname); several logs may share one bucket under different
// Prefixes.
type AWSOptions struct {
	// Bucket is the S3 bucket's name (it must exist).
	Bucket string
	// Prefix is put before every object name ("" for none), e.g.
	// "site-a/log" for one of several logs in one bucket.
	Prefix string
	// Endpoint is the base URL of an S3-compatible server other than AWS
	// (e.g. "http://127.0.0.1:9000"; path-style requests are used); "" is
	// AWS's own S3.
	Endpoint string
	// Region is the S3 region ("" takes it from AWS_REGION or ~/.aws, as
	// the AWS SDK does; "us-east-1" if none is set).
	Region string
	// DSN is the go-sql-driver/mysql DSN of the database,
	// "user:password@tcp(host:3306)/dbname".
	DSN string
	// AccessKeyID and SecretAccessKey are static S3 credentials; empty
	// means the AWS SDK's default chain (AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY, ~/.aws, the instance's role).
	AccessKeyID, SecretAccessKey string
}

// AWSMinCheckpointInterval is the least checkpoint interval Tessera's AWS
// driver accepts; [Open] raises a shorter [Options.CheckpointInterval] to it.
const AWSMinCheckpointInterval = time.Second

// awsDriver opens Tessera's AWS driver for o.
func awsDriver(ctx context.Context, o *AWSOptions, hc *http.Client) (tessera.Driver, error) {
	switch {
	case o.Bucket == "":
		return nil, errors.New("translog: AWS storage without a bucket")
	case o.DSN == "":
		return nil, errors.New("translog: AWS storage without a database DSN")
	}
	var lo []func(*awsconfig.LoadOptions) error
	if o.Region != "" {
		lo = append(lo, awsconfig.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" || o.SecretAccessKey != "" {
		lo = append(lo, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")))
	}
	if hc != nil {
		lo = append(lo, awsconfig.WithHTTPClient(hc))
	}
	sdk, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS SDK's configuration: %w", err)
	}
	if sdk.Region == "" {
		sdk.Region = "us-east-1"
	}
	endpoint := o.Endpoint
	return tessaws.New(ctx, tessaws.Config{
		SDKConfig: &sdk,
		S3Options: func(so *s3.Options) {
			if endpoint != "" {
				so.BaseEndpoint = aws.String(endpoint)
				so.UsePathStyle = true
				// Other S3 servers seldom know the SDK's default
				// trailing checksums.
				so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
				so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			}
		},
		Bucket:       o.Bucket,
		BucketPrefix: o.Prefix,
		DSN:          o.DSN,
		HTTPClient:   hc,
	})
}

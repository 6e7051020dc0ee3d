package translog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
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

// awsDriver opens Tessera's AWS driver for o and a [Source] reading the
// bucket.
func awsDriver(ctx context.Context, o *AWSOptions, hc *http.Client) (tessera.Driver, Source, error) {
	switch {
	case o.Bucket == "":
		return nil, nil, errors.New("translog: AWS storage without a bucket")
	case o.DSN == "":
		return nil, nil, errors.New("translog: AWS storage without a database DSN")
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
		return nil, nil, fmt.Errorf("load the AWS SDK's configuration: %w", err)
	}
	if sdk.Region == "" {
		sdk.Region = "us-east-1"
	}
	endpoint := o.Endpoint
	s3opts := func(so *s3.Options) {
		if endpoint != "" {
			so.BaseEndpoint = aws.String(endpoint)
			so.UsePathStyle = true
			// Other S3 servers seldom know the SDK's default
			// trailing checksums.
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	}
	d, err := tessaws.New(ctx, tessaws.Config{
		SDKConfig:    &sdk,
		S3Options:    s3opts,
		Bucket:       o.Bucket,
		BucketPrefix: o.Prefix,
		DSN:          o.DSN,
		HTTPClient:   hc,
	})
	if err != nil {
		return nil, nil, err
	}
	return d, &bucketSource{c: s3.NewFromConfig(sdk, s3opts), bucket: o.Bucket, prefix: o.Prefix}, nil
}

// bucketSource reads a log's published objects from its bucket. (Tessera's
// own reader does not report a missing tile as fs.ErrNotExist, so it
// cannot fall back from a removed partial tile to the full one.)
type bucketSource struct {
	c              *s3.Client
	bucket, prefix string
}

func (b *bucketSource) get(ctx context.Context, name string) ([]byte, error) {
	if b.prefix != "" {
		name = path.Join(b.prefix, name)
	}
	out, err := b.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(name)})
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, fmt.Errorf("s3://%s/%s: %w", b.bucket, name, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", b.bucket, name, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// partialOrFull reads a partial resource, or the full one if the partial
// one was removed because the tree grew.
func (b *bucketSource) partialOrFull(ctx context.Context, p uint8, name func(uint8) string) ([]byte, error) {
	raw, err := b.get(ctx, name(p))
	if p > 0 && errors.Is(err, fs.ErrNotExist) {
		return b.get(ctx, name(0))
	}
	return raw, err
}

func (b *bucketSource) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return b.get(ctx, layout.CheckpointPath)
}

func (b *bucketSource) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	return b.partialOrFull(ctx, p, func(p uint8) string { return layout.TilePath(level, index, p) })
}

func (b *bucketSource) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	return b.partialOrFull(ctx, p, func(p uint8) string { return layout.EntriesPath(index, p) })
}

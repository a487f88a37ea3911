// Command s3dns is a DNS server that answers chosen S3 names with an S3
// interface VPC endpoint and forwards everything else.
package main

import "github.com/s3dns/s3dns/app"

func main() { app.Main() }

// Package config turns a YAML file, S3DNS_* environment variables and flags
// into one typed, validated model.Config, and watches the file. Nothing
// else in s3dns reads viper; the types themselves are package model's.
package config

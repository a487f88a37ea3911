//go:build !race

package dnsserver

const raceDetector = false

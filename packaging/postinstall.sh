#!/bin/sh
# The unit is installed, not enabled or started: the shipped configuration
# names example endpoints. Edit /etc/s3dns/s3dns.yaml, then
#   s3dns validate --config /etc/s3dns/s3dns.yaml && systemctl enable --now s3dns
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	# An upgrade restarts a running server on the new binary.
	if systemctl is-active --quiet s3dns; then
		systemctl try-restart s3dns >/dev/null 2>&1 || true
	fi
fi
exit 0

#!/bin/sh
# Before the package goes: on removal (not on an upgrade, which restarts the
# server after installing the new binary) stop the service and disable it,
# so that nothing is left running or enabled without its binary.
#   dpkg prerm: $1 is "remove" (or "upgrade", "deconfigure", "failed-upgrade")
#   rpm %preun: $1 is 0 on erase, 1 or more on upgrade
case "$1" in
	remove|0) ;;
	*) exit 0 ;;
esac
# (S3DNS_SYSTEMD_DIR only lets a test stand in for a running systemd.)
if [ -d "${S3DNS_SYSTEMD_DIR:-/run/systemd/system}" ]; then
	systemctl stop s3dns >/dev/null 2>&1 || true
	systemctl disable s3dns >/dev/null 2>&1 || true
fi
exit 0

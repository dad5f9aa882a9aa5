#!/bin/sh
# Refresh docs/notify-screenshot.png: real notifications of rtowatch-notify
# drawn by dunst on an Xvfb screen, taken by test_notify_screenshot.py.
set -eu
cd "$(dirname "$0")/../.."
make --no-print-directory all >/dev/null
tmp=$(mktemp --suffix=.png)
trap 'rm -f "$tmp"' EXIT
: >"$tmp"
# The agent shows local time; the computer center is in Taipei.
TZ=Asia/Taipei RTOWATCH_SCREENSHOT=$tmp /usr/bin/python3 -m pytest -q -rs \
    -p no:cacheprovider tests/e2e/test_notify_screenshot.py
if [ ! -s "$tmp" ]; then
	echo "notify_screenshot.sh: no screenshot was taken (skipped?)" >&2
	exit 1
fi
cp "$tmp" docs/notify-screenshot.png
echo "wrote docs/notify-screenshot.png"

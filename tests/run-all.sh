#!/bin/sh
# Run every test of rtowatch, in the release and the ASan build, and close
# with one count line.  Called by "make check" after the builds.
set -u
cd "$(dirname "$0")/.." || exit 1
exec /usr/bin/python3 tests/run_all.py "$@"

#!/bin/sh
# Checks a "binary" was made for TARGETPLATFORM.
set -e
for f in "$@"; do
  grep -q "$TARGETPLATFORM" "$f" || { echo "$f: not for $TARGETPLATFORM" >&2; exit 1; }
done

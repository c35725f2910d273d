#!/bin/sh
# Lists the .txt files of a directory with their first line.
set -e
for f in "$1"/*.txt; do
  printf "%s=%s on %s\n" "$(basename "$f")" "$(head -n1 "$f")" "$(uname -m)"
done

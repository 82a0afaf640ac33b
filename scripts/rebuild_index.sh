#!/usr/bin/env bash
# Scripted rebuild for cron or CI: incremental, atomic, waits up to 10 minutes for another build's lock.
# Usage: scripts/rebuild_index.sh ARCHIVE_DIR [INDEX_DIR]
# Exit status: 0 built, 3 built but some files were skipped (listed on stderr), 1 failed (old index still serves).
# Stopped by SIGTERM or Ctrl-C it also exits 0, with no report on stdout and one stderr line saying which index serves.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
archive="${1:?usage: $0 ARCHIVE_DIR [INDEX_DIR]}"
args=(build --archive "$archive" --json --quiet --wait 600)
[ $# -ge 2 ] && args+=(--index "$2")
exec "$here/.venv/bin/archive-qa" "${args[@]}"

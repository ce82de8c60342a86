#!/bin/sh
# Linli nightly backup (run by linli-backup.timer, or by hand as the linli user):
#   1. pg_dump --format=custom of DATABASE_URL into LINLI_BACKUP_DIR/linli-<date>T<time>.dump
#      (written under a temporary name, checked with pg_restore --list, then renamed: a half-written
#      dump never looks like a backup);
#   2. dumps older than LINLI_BACKUP_KEEP_DAYS days (default 30) are deleted — only after today's
#      dump succeeded;
#   LINLI_BACKUP_SKIP_READINGS=1 leaves the rows of the raw sensor readings (sensing_reading and its
#      day partitions) out of the dump — the table definitions, the hourly roll-ups and everything
#      else stay in. A district's raw readings run to hundreds of GB (docs/operations.md "Sensor data");
#      back them up physically (pg_basebackup / WAL archiving) or accept losing up to the raw retention.
#   3. LINLI_BACKUP_COPY, if set, is run with the new file as its last argument to copy it off the
#      machine (e.g. "rsync -a" to host:/path/, "rclone copy" to a bucket); its failure fails the run.
# Restore: docs/operations.md "Backups". The dump holds ID numbers and phones encrypted: it is
# readable only with LINLI_FIELD_KEYS, which is NOT in the dump — keep that key safe and separate.
set -eu

: "${DATABASE_URL:?DATABASE_URL is not set (EnvironmentFile=/etc/linli/linli.env)}"
dir="${LINLI_BACKUP_DIR:-/var/backups/linli}"
keep="${LINLI_BACKUP_KEEP_DAYS:-30}"
case "$keep" in '' | *[!0-9]*) echo "LINLI_BACKUP_KEEP_DAYS=$keep is not a whole number" >&2; exit 2 ;; esac

umask 077
mkdir -p "$dir"
stamp="$(date +%Y-%m-%dT%H%M%S)"
out="$dir/linli-$stamp.dump"
part="$dir/.linli-$stamp.dump.partial"
trap 'rm -f "$part"' EXIT

case "${LINLI_BACKUP_SKIP_READINGS:-0}" in
  1 | yes | true) set -- --exclude-table-data='sensing_reading' --exclude-table-data='sensing_reading_p*' \
    --exclude-table-data='sensing_reading_default' ;;
  0 | no | false | '') set -- ;;
  *) echo "LINLI_BACKUP_SKIP_READINGS=$LINLI_BACKUP_SKIP_READINGS is not 0 or 1" >&2; exit 2 ;;
esac
pg_dump --format=custom --compress=6 "$@" --dbname="$DATABASE_URL" --file="$part"
pg_restore --list "$part" >/dev/null
mv "$part" "$out"
echo "linli-backup: wrote $out ($(du -h "$out" | cut -f1))"

find "$dir" -maxdepth 1 -name 'linli-*.dump' -type f -mtime +"$keep" -print -delete |
  sed 's/^/linli-backup: deleted old /'

if [ -n "${LINLI_BACKUP_COPY:-}" ]; then
  # word splitting on purpose: the variable is a command with its options
  # shellcheck disable=SC2086
  $LINLI_BACKUP_COPY "$out"
  echo "linli-backup: copied off the machine with: $LINLI_BACKUP_COPY"
fi

#!/usr/bin/env bash
# Proves a backup restores: dumps DATABASE_URL with pg_dump -Fc, restores the dump into a fresh
# database next to it, and verifies every run's audit trail there (and every artifact's file
# under MEDIA_ROOT, every archive under ARCHIVE_ROOT) with `manage.py verifyruns`.
#
#   DATABASE_URL=postgres://user@host:5432/orchestrator scripts/backup_restore_check.sh [DUMP]
#
# Run it with the deployment's settings (AUDIT_SIGNING_KEY and the rest): the restored runs'
# signed heads verify only with the keys kept apart from the dump. DUMP (default: a temporary
# file) keeps the dump; RESTORE_DATABASE names the scratch database (default: the database's
# name with _restore_check), which is dropped at the end unless KEEP_RESTORED=1.
# Exit status 0 when everything verifies; otherwise what does not is printed.
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to back up}"
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
url=${DATABASE_URL%%\?*}          # connection options after ? are not carried over
server=${url%/*}
name=${url##*/}
scratch=${RESTORE_DATABASE:-${name}_restore_check}
dump=${1:-$(mktemp -d)/${name}.dump}

drop_scratch() { psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"$scratch\"" >/dev/null; }
[ "${KEEP_RESTORED:-0}" = 1 ] || trap drop_scratch EXIT

echo "Dumping $name to $dump"
pg_dump --format=custom --no-owner --file "$dump" "$url"
echo "Restoring into a fresh database, $scratch"
drop_scratch
psql -q "$server/postgres" -c "CREATE DATABASE \"$scratch\"" >/dev/null
pg_restore --no-owner --exit-on-error --dbname "$server/$scratch" "$dump"
echo "Verifying every run there"
DATABASE_URL="$server/$scratch" "$python" manage.py verifyruns

#!/bin/bash
# Every benchmark of the mailbox, search, SLA, product and triage/ingest work, one after another,
# each database vacuumed first (this machine's PostgreSQL runs without autovacuum), with the time,
# load average and commit before each. Run from the repository with nothing else running:
#
#   bash bench/chain.sh > chain.log 2>&1
#
# Databases (built by each script on first use, reused after): $BENCH_DB_PREFIX + mailbox (100,000
# tickets, used by mailbox.py and search.py), big (1,000,000 tickets; set BENCH_BIG=0 to skip it:
# it takes ~25-60 min to build), sla, products, ingest. Redis: $BENCH_REDIS_URL.
set -u
PY=${PY:-.venv/bin/python}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
P=${BENCH_DB_PREFIX:-sd_b_}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}
BIG=${BENCH_BIG:-1}
hdr() { echo; echo "=== $1 — $(date -u +%H:%M:%S) UTC, $(uptime | sed 's/.*load/load/'), $(git rev-parse --short HEAD)"; }
$PY manage.py collectstatic --noinput -v0
for db in mailbox big sla products ingest; do
  psql "$PG/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$P$db'" | grep -q 1 \
    || psql "$PG/postgres" -qc "CREATE DATABASE $P$db"
  vacuumdb -d "$PG/$P$db" -z -q
done
hdr "mailbox.py"; DATABASE_URL=$PG/${P}mailbox $PY bench/mailbox.py --iterations 100
hdr "search.py"; DATABASE_URL=$PG/${P}mailbox $PY bench/search.py --iterations 50
hdr "sla.py"; DATABASE_URL=$PG/${P}sla REDIS_URL=$REDIS $PY bench/sla.py --iterations 100
hdr "product_search.py"; DATABASE_URL=$PG/${P}products $PY bench/product_search.py --iterations 150
if [ "$BIG" = 1 ]; then
  hdr "search.py 1M"
  DATABASE_URL=$PG/${P}big $PY bench/search.py --tickets 1000000 --messages 10000000 --iterations 50
fi
hdr "triage.py"; $PY bench/triage.py
hdr "triage.py --ingest 1000"
REDIS_URL=$REDIS CELERY_TASK_DEFAULT_QUEUE=triage-bench DATABASE_URL=$PG/${P}ingest \
  $PY bench/triage.py --ingest 1000 --ingest-only
hdr "ingest.py"
REDIS_URL=$REDIS CELERY_TASK_DEFAULT_QUEUE=ingest-bench DATABASE_URL=$PG/${P}ingest $PY bench/ingest.py
hdr "end"

#!/usr/bin/env bash
# The seed tutorial's pipeline inside one Freshet: a SALES load generator (the tutorial's SQL
# Server) -> its `sales` table is the topic freshet.public.sales on Freshet's Kafka API
# (SASL_SSL, PLAIN, a password) -> the tutorial's Materialize SQL, verbatim but for the broker,
# URL, topic and token: a Kafka source with FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY and
# ENVELOPE UPSERT, the sales_anomalies view and its index.
#
# What it asserts, sampling for ~20 s (and again for ~8 s after a restart of Freshet):
#   * each sample is ONE query, so both sides are read at one timestamp with one mz_now():
#     sales_anomalies (through Kafka, Avro and the registry) against the same view computed
#     directly on `sales` (sales_anomalies_direct), and the raw tables sqlserver_sales
#     against sales, compared exactly (md5 of every column of every row, and counts);
#   * the pipeline lags, so a sample taken while a tick is in flight may differ; but the
#     generator ticks every 100 ms and the source applies whole upstream transactions, so most
#     samples land in a quiet moment: at least MIN_MATCHES samples with non-empty anomalies
#     must match exactly, on at least MIN_DISTINCT different states (the data really moves),
#     and no run of mismatching samples may last longer than MAX_LAG_S (the pipeline never
#     stalls);
#   * after a restart on the same data dir, the source resumes from its stored offsets and the
#     same holds (nothing lost: the raw tables match exactly again);
#   * the source reports no error.
# Freshet's Kafka source trusts the listener's self-signed certificate through
# FRESHET_KAFKA_CA_FILE (the seed's SQL names no CA); verification stays on.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=seed_pipeline
SAMPLE_S=${SEED_SAMPLE_S:-20}
MIN_MATCHES=${SEED_MIN_MATCHES:-10}
MIN_DISTINCT=${SEED_MIN_DISTINCT:-5}
MAX_LAG_S=${SEED_MAX_LAG_S:-5}
command -v openssl >/dev/null || { e2e_fail $NAME "openssl not installed"; exit 1; }

CERTS=$(mktemp -d /tmp/freshet-seed-tls.XXXXXX)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$CERTS/key.pem" -out "$CERTS/cert.pem" >/dev/null 2>&1 ||
  { e2e_fail $NAME "openssl req failed"; rm -rf "$CERTS"; exit 1; }
TOKEN="tok-$RANDOM$RANDOM"
export PGPASSWORD=$TOKEN FRESHET_KAFKA_CA_FILE="$CERTS/cert.pem"
FRESHET_EXTRA_ARGS="--kafka-sasl --tls-cert $CERTS/cert.pem --tls-key $CERTS/key.pem --user-password freshet:$TOKEN"
export FRESHET_EXTRA_ARGS
start_freshet || { e2e_fail $NAME "freshet did not start"; rm -rf "$CERTS"; exit 1; }
trap '_e2e_cleanup; rm -rf "$CERTS"' EXIT

fail() { e2e_fail $NAME "$1"; exit 1; }
q() { psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

out=$(q "CREATE SOURCE demo FROM LOAD GENERATOR SALES (TICK INTERVAL '100ms', RATE 200) FOR ALL TABLES") ||
  fail "CREATE SOURCE demo: $out"

# The seed's SQL (Materialize side), with this Freshet's broker, registry, topic and token.
VIEW_BODY="with recent_sales as (
    select * from %s
    where mz_now() <= sale_date + interval '7 days'
  ),
  rolling_avg as (
    select
    customer_id,
    avg(total_price) as customer_spend_avg
    from recent_sales
    group by customer_id
  )
  select
    a.customer_id, a.customer_spend_avg, s.product_id, s.quantity, s.sale_date, s.sale_id, s.total_price, s.unit_price
  from recent_sales s join rolling_avg a using(customer_id)
  where s.total_price > 1.5 * a.customer_spend_avg"
# shellcheck disable=SC2059
SEED_SQL="CREATE SECRET estuary_refresh_token AS '$TOKEN';
CREATE CONNECTION estuary_connection TO KAFKA (
   BROKER '127.0.0.1:$FRESHET_KAFKA_PORT',
   SECURITY PROTOCOL = 'SASL_SSL',
   SASL MECHANISMS = 'PLAIN',
   SASL USERNAME = 'freshet',
   SASL PASSWORD = SECRET estuary_refresh_token
);
CREATE CONNECTION csr_estuary_connection TO CONFLUENT SCHEMA REGISTRY (
   URL 'http://127.0.0.1:$FRESHET_HTTP_PORT',
   USERNAME = 'freshet',
   PASSWORD = SECRET estuary_refresh_token
);
CREATE SOURCE sqlserver_sales FROM KAFKA CONNECTION estuary_connection (TOPIC 'freshet.public.sales') FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr_estuary_connection
   ENVELOPE UPSERT;
create view sales_anomalies as
  $(printf "$VIEW_BODY" sqlserver_sales);
create index on sales_anomalies (customer_id);"
out=$(psql -X -q -v ON_ERROR_STOP=1 <<<"$SEED_SQL" 2>&1) || fail "the seed's SQL failed: $out"
# The reference: the same view directly on the generator's collection.
out=$(psql -X -q -v ON_ERROR_STOP=1 <<<"create view sales_anomalies_direct as $(printf "$VIEW_BODY" sales);
create index on sales_anomalies_direct (customer_id);" 2>&1) || fail "the reference view failed: $out"

cols=$(q "select column_name || ' ' || data_type from information_schema.columns where table_name = 'sqlserver_sales' order by ordinal_position" | tr '\n' ',')
[[ "$cols" == "sale_id bigint,product_id integer,customer_id integer,sale_date timestamp without time zone,quantity integer,unit_price numeric,total_price numeric," ]] ||
  fail "sqlserver_sales columns: $cols"

ROW="sale_id || ':' || product_id || ':' || customer_id || ':' || sale_date || ':' || quantity || ':' || unit_price || ':' || total_price"
AROW="customer_id || ':' || customer_spend_avg || ':' || product_id || ':' || quantity || ':' || sale_date || ':' || sale_id || ':' || total_price || ':' || unit_price"
SAMPLE="select (select count(*) from sales_anomalies), (select count(*) from sales_anomalies_direct),
  (select count(*) from sqlserver_sales), (select count(*) from sales),
  (select md5(string_agg($AROW, ',' order by sale_id)) from sales_anomalies),
  (select md5(string_agg($AROW, ',' order by sale_id)) from sales_anomalies_direct),
  (select md5(string_agg($ROW, ',' order by sale_id)) from sqlserver_sales),
  (select md5(string_agg($ROW, ',' order by sale_id)) from sales)"

# sample PHASE SECONDS MIN_MATCHES MIN_DISTINCT: samples for SECONDS, checks the assertions above.
sample() {
  local phase=$1 secs=$2 min_matches=$3 min_distinct=$4 matches=0 samples=0 mismatch_since=0 longest=0 last_raw=0
  local -A distinct=()
  # Samples for SECONDS; on a loaded machine a sample can take seconds, so sampling goes on (up
  # to three times as long) until enough samples matched.
  local end=$((SECONDS + secs)) hard_end=$((SECONDS + 3 * secs)) now line a_n d_n s_n r_n ha hd hs hr
  while ((SECONDS < end || (matches < min_matches && SECONDS < hard_end))); do
    line=$(q "$SAMPLE") || fail "$phase: sample query failed: $line"
    read -r a_n d_n s_n r_n ha hd hs hr <<<"$line"
    samples=$((samples + 1))
    now=$(date +%s%N)
    if [[ "$a_n" == "$d_n" && "$ha" == "$hd" && "$s_n" == "$r_n" && "$hs" == "$hr" ]]; then
      if ((a_n > 0)); then   # a match counts only with anomalies to compare
        matches=$((matches + 1))
        distinct[$hs]=1
      fi
      if ((mismatch_since > 0)); then
        local lag=$(((now - mismatch_since) / 1000000))
        ((lag > longest)) && longest=$lag
      fi
      mismatch_since=0
    else
      [[ -n "${SEED_VERBOSE:-}" ]] && echo "$phase: mismatch: $line" >&2
      ((mismatch_since == 0)) && mismatch_since=$now
    fi
    last_raw=$r_n
    sleep 0.1
  done
  if ((mismatch_since > 0)); then
    local lag=$((($(date +%s%N) - mismatch_since) / 1000000))
    ((lag > longest)) && longest=$lag
  fi
  echo "$phase: $samples samples, $matches exact matches, ${#distinct[@]} distinct matched states, longest mismatch run ${longest} ms, sales rows $last_raw, anomalies $a_n"
  ((matches >= min_matches)) || fail "$phase: only $matches of $samples samples matched exactly (last: $line)"
  ((${#distinct[@]} >= min_distinct)) || fail "$phase: only ${#distinct[@]} distinct states matched: the data does not move"
  ((longest <= MAX_LAG_S * 1000)) || fail "$phase: the pipeline lagged for ${longest} ms"
  ((last_raw > 0)) || fail "$phase: sales is empty"
}

sample live "$SAMPLE_S" "$MIN_MATCHES" "$MIN_DISTINCT"
status=$(q "select state || '|' || coalesce(last_error, '') from mz_source_statuses where name = 'sqlserver_sales'")
[[ "$status" == "running|" ]] || fail "source status: $status"

# Restart on the same data dir and ports: the Kafka source resumes from its stored offsets.
pos_before=$(q "select position from mz_source_statuses where name = 'sqlserver_sales'")
kill "$FRESHET_PID"
for _ in $(seq 1 200); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$FRESHET_PID" 2>/dev/null && fail "freshet ignored SIGTERM for 20 s"
wait "$FRESHET_PID" 2>/dev/null
# shellcheck disable=SC2086
"$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" \
  --pg-listen "127.0.0.1:$FRESHET_PORT" --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" \
  --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" $FRESHET_EXTRA_ARGS >>"$FRESHET_LOG" 2>&1 &
FRESHET_PID=$!
wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || fail "freshet did not come back after the restart"
for _ in $(seq 1 100); do
  [[ $(q "select state from mz_source_statuses where name = 'sqlserver_sales'") == running ]] && break
  sleep 0.1
done
sample restarted 8 3 2
status=$(q "select state || '|' || coalesce(last_error, '') || '|' || position from mz_source_statuses where name = 'sqlserver_sales'")
[[ "$status" == "running||"* ]] || fail "source status after the restart: $status"
echo "positions: before the restart $pos_before, now ${status##*|}"
freshet_alive || fail "freshet died"
e2e_pass $NAME

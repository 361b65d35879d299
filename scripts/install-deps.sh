#!/usr/bin/env bash
# Installs what building and testing Freshet needs on Debian 12, then the e2e tests' npm
# packages. Idempotent: apt-get runs only when a package is missing. As non-root it only reports.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(
  build-essential cmake ninja-build ccache g++ clang
  libgtest-dev libgmock-dev libbenchmark-dev libfmt-dev libabsl-dev libasio-dev libssl-dev
  libpg-query-dev libprotobuf-c-dev libre2-dev nlohmann-json3-dev libpq-dev libmariadb-dev freetds-dev
  # exact integers for the materialize dialect's 39-digit numeric (src/common/numeric_mz.cpp)
  libgmp-dev
  postgresql-15 postgresql-client-15 mariadb-server kcat librdkafka-dev
  # HTTP API e2e test (test/e2e/http_api_test.sh): /metrics parser, Kafka group admin clients
  python3-prometheus-client python3-kafka python3-confluent-kafka
  # driver and tool e2e tests (test/e2e/drivers/README.md)
  python3-psycopg python3-psycopg2 python3-sqlalchemy libpostgresql-jdbc-java openjdk-17-jdk-headless
  pgcli tmux
  # named time zones (src/common/timezone.cpp reads /usr/share/zoneinfo)
  tzdata
  # the web console's browser test and benchmark (test/e2e/console_test.sh, bench/console.sh)
  chromium
)
# Node: keep an existing installation (e.g. NodeSource's nodejs, which bundles npm and
# conflicts with Debian's npm package); install Debian's only when node or npm is absent.
if ! command -v node >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing Debian packages: ${missing[*]}" >&2
    echo "install-deps: run as root:  sudo $0   (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# npm packages of test/e2e (the e2e tests' clients, and @duckdb/node-api for bench/analytics.sh) and console/ (the web console's build:
# esbuild, uPlot), each installed when missing, and again when its lock file changed since the
# last install (a stamp in node_modules remembers which one was installed).
npm_install() {
  local dir=$1 stamp="$1/node_modules/.freshet-installed-lock"
  [[ -f "$dir/package.json" ]] || return 0
  if [[ ! -d "$dir/node_modules" ]] || { [[ -f "$dir/package-lock.json" ]] && ! cmp -s "$dir/package-lock.json" "$stamp"; }; then
    echo "install-deps: installing npm packages in ${dir#"$ROOT"/}"
    if [[ -f "$dir/package-lock.json" ]]; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) && cp "$dir/package-lock.json" "$stamp"
    else
      (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
    fi
  fi
}
npm_install "$ROOT/test/e2e"
npm_install "$ROOT/console"

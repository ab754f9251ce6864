#!/usr/bin/env bash
# Makes sure of every server the tests need; `npm test` runs it before jest.
#
#   bash scripts/test-servers.sh                   every server: a server that answers is left alone,
#                                                  one installed but stopped is started, one missing is
#                                                  installed from Debian's packages when run as root
#   bash scripts/test-servers.sh NAME...           only these (see SERVERS)
#   bash scripts/test-servers.sh --check NAME...   check only, change nothing (test/support/servers.ts
#                                                  runs this inside a suite)
#
# When a server is still missing it exits 1 with one message naming the command to run; the tests'
# helper prints the same message, because it is this script that writes it.
#
# Bash rather than Node: it runs before `npm ci` on a fresh clone, it starts in milliseconds, and
# its work is running apt-get, pg_ctlcluster and su.
#
# A server is five functions, NAME_about, NAME_ready, NAME_installed, NAME_packages and (when the
# tests do not start it themselves) NAME_start, plus its name in SERVERS. Adding one is adding
# those and the name; test/support/servers.ts lists the names for TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVERS="redis redis_cluster postgres chromium trytond radicale"

# Why the last *_ready check failed, for the message.
why=""

is_loopback() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }

# The host, port and path of scheme://[user[:password]@]host[:port][/path][?query].
url_authority() {
  local rest=${1#*://}
  rest=${rest%%/*}
  printf '%s' "${rest##*@}"
}
url_host() {
  local authority
  authority=$(url_authority "$1")
  printf '%s' "${authority%:*}"
}
url_port() {
  local authority
  authority=$(url_authority "$1")
  if [[ $authority == *:* ]]; then printf '%s' "${authority##*:}"; else printf '%s' "$2"; fi
}
url_path() {
  local rest=${1#*://}
  if [[ $rest == */* ]]; then rest=${rest#*/}; else rest=""; fi
  printf '%s' "${rest%%\?*}"
}

# Waits up to 15 s for NAME_ready.
wait_ready() {
  for _ in $(seq 1 75); do
    "$1_ready" && return 0
    sleep 0.2
  done
  return 1
}

apt_updated=0
apt_install() {
  if [[ $apt_updated == 0 ]]; then
    apt-get update -qq || return 1
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

say() { printf 'test-servers: %s\n' "$*" >&2; }

# --- Redis: BullMQ's queues (REDIS_URL) ----------------------------------------------------------
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
redis_host=$(url_host "$redis_url")
redis_port=$(url_port "$redis_url" 6379)

redis_about() { printf 'Redis at %s' "$redis_url"; }
redis_ready() {
  # A RESP PING over bash's /dev/tcp: no client needed. NOAUTH still means a Redis answers.
  local reply
  if reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "PING\r\n" >&3 && IFS= read -r -t 2 line <&3 && printf "%s" "$line"' \
    _ "$redis_host" "$redis_port" 2>/dev/null) && [[ $reply == +PONG* || $reply == -NOAUTH* ]]; then
    return 0
  fi
  why="nothing answers"
  is_loopback "$redis_host" || why="$why (not this machine: start it there, or unset REDIS_URL)"
  return 1
}
redis_installed() { is_loopback "$redis_host" && command -v redis-server >/dev/null; }
redis_packages() { if is_loopback "$redis_host"; then printf 'redis-server'; fi; }
redis_start() {
  is_loopback "$redis_host" || return 1
  # Its own pid file, so that a second instance on another port leaves the first one's alone.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --pidfile "${TMPDIR:-/tmp}/tandem-redis-$redis_port.pid" >/dev/null
}

# --- redis-server and redis-cli: the Redis Cluster test starts a cluster of its own ---------------
redis_cluster_about() { printf 'redis-server and redis-cli (Redis Cluster test)'; }
redis_cluster_ready() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  why="not installed"
  return 1
}
redis_cluster_installed() { redis_cluster_ready; }
# redis-cli is in redis-tools, which redis-server depends on; named as well for a redis-server
# that came from elsewhere.
redis_cluster_packages() { printf 'redis-server redis-tools'; }

# --- PostgreSQL: the Postgres store's tests (DATABASE_URL) ---------------------------------------
postgres_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
postgres_host=$(url_host "$postgres_url")
postgres_port=$(url_port "$postgres_url" 5432)
postgres_database=$(url_path "$postgres_url")

postgres_about() { printf 'PostgreSQL at %s' "$postgres_url"; }
postgres_ready() {
  local answer
  if ! command -v psql >/dev/null; then
    why="psql is not installed"
    return 1
  fi
  if answer=$(PGCONNECT_TIMEOUT=3 psql "$postgres_url" -w -Atqc 'select 1' 2>&1) && [[ $answer == 1 ]]; then return 0; fi
  why=$(printf '%s' "$answer" | head -n 1)
  is_loopback "$postgres_host" || why="$why (not this machine: start it there, or unset DATABASE_URL)"
  return 1
}
# The Debian cluster that listens on the URL's port, as "version name".
postgres_cluster() {
  command -v pg_lsclusters >/dev/null || return 1
  pg_lsclusters -h 2>/dev/null | awk -v port="$postgres_port" '$3 == port { print $1, $2; found = 1; exit } END { exit !found }'
}
postgres_installed() { is_loopback "$postgres_host" && postgres_cluster >/dev/null; }
postgres_packages() { if is_loopback "$postgres_host"; then printf 'postgresql'; fi; }
postgres_start() {
  local version cluster hba
  is_loopback "$postgres_host" || return 1
  read -r version cluster <<<"$(postgres_cluster)"
  if ! pg_isready -q -h "$postgres_host" -p "$postgres_port" -t 1; then
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start || return 1
    for _ in $(seq 1 75); do
      pg_isready -q -h "$postgres_host" -p "$postgres_port" -t 1 && break
      sleep 0.2
    done
  fi
  postgres_ready && return 0
  [[ $EUID == 0 ]] || return 1
  # A fresh Debian cluster asks for passwords over TCP: trust loopback, as the test machines do.
  if [[ $why == *password* ]]; then
    hba=$(pg_conftool -s "$version" "$cluster" show hba_file)
    { printf 'host all all 127.0.0.1/32 trust # tandem-tests\nhost all all ::1/128 trust # tandem-tests\n'; cat "$hba"; } >"$hba.tandem"
    cat "$hba.tandem" >"$hba" && rm -f "$hba.tandem"
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" reload
    sleep 0.5
    postgres_ready && return 0
  fi
  # ... and has no `test` database.
  if [[ $why == *"does not exist"* && -n $postgres_database ]]; then
    su postgres -c "createdb -p $postgres_port '$postgres_database'"
  fi
}

# --- Chromium: the console's browser tests (CHROMIUM_PATH) ---------------------------------------
chromium_path=${CHROMIUM_PATH:-/usr/bin/chromium}

chromium_about() { printf 'Chromium at %s' "$chromium_path"; }
chromium_ready() {
  [[ -x $chromium_path ]] && return 0
  why="not installed"
  [[ $chromium_path == /usr/bin/chromium ]] || why="$why (install it there, or unset CHROMIUM_PATH)"
  return 1
}
chromium_installed() { [[ -x $chromium_path ]]; }
# Debian's package is what puts it at /usr/bin/chromium.
chromium_packages() { if [[ $chromium_path == /usr/bin/chromium ]]; then printf 'chromium'; fi; }

# --- trytond 6.0: the Tryton connector's tests start their own (test/support/tryton) -------------
trytond_debian_packages="tryton-server tryton-modules-party tryton-modules-bank tryton-modules-account"
trytond_debian_packages+=" tryton-modules-company tryton-modules-currency tryton-modules-country"
trytond_debian_packages+=" tryton-modules-sale tryton-modules-purchase"

trytond_about() { printf 'trytond 6.0 with its modules'; }
trytond_ready() {
  local installed missing="" package
  if command -v dpkg-query >/dev/null; then
    # The package list is split into words on purpose, here and in apt_install below.
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $trytond_debian_packages 2>/dev/null | awk '$2 == "ii" { print $1 }')
    for package in $trytond_debian_packages; do
      grep -qx "$package" <<<"$installed" || missing="$missing $package"
    done
    [[ -z $missing ]] && return 0
    why="not installed (missing:$missing)"
    return 1
  fi
  command -v trytond >/dev/null && command -v trytond-admin >/dev/null && return 0
  why="trytond and trytond-admin are not on PATH"
  return 1
}
trytond_installed() { trytond_ready; }
trytond_packages() { printf '%s' "$trytond_debian_packages"; }

# --- Radicale: the CardDAV connector's tests start their own (test/support/radicale) -------------
radicale_about() { printf 'Radicale (CardDAV server)'; }
radicale_ready() {
  # The tests run `radicale` from PATH (Debian's is /usr/bin/radicale, on its own /usr/bin/python3).
  command -v radicale >/dev/null && radicale --version >/dev/null 2>&1 && return 0
  why="not installed (no working radicale on PATH)"
  return 1
}
radicale_installed() { radicale_ready; }
radicale_packages() { printf 'radicale'; }

# --- one server ----------------------------------------------------------------------------------
# Makes sure of one server; on failure `why` says what is wrong.
ensure() {
  local name=$1 packages
  "${name}_ready" && return 0
  [[ $mode == check ]] && return 1
  if ! "${name}_installed"; then
    packages=$("${name}_packages")
    [[ -n $packages ]] || return 1
    if [[ $EUID != 0 ]]; then
      why="$why; installing it needs root"
      return 1
    fi
    say "installing $("${name}_about") from Debian's packages:" $packages
    if ! apt_install $packages; then
      why="apt-get install failed (see above)"
      return 1
    fi
    "${name}_ready" && return 0
  fi
  declare -F "${name}_start" >/dev/null || return 1
  say "starting $("${name}_about")"
  if ! "${name}_start"; then
    why="$why; starting it failed"
    [[ $EUID == 0 ]] || why="$why (it may need root)"
    return 1
  fi
  wait_ready "$name" || {
    why="$why, 15 s after starting it"
    return 1
  }
}

mode=ensure
if [[ ${1-} == --check ]]; then
  mode=check
  shift
fi
names=("$@")
if [[ ${#names[@]} == 0 ]]; then read -r -a names <<<"$SERVERS"; fi
for name in "${names[@]}"; do
  if [[ " $SERVERS " != *" $name "* ]]; then
    say "unknown server '$name' (known: $SERVERS)"
    exit 2
  fi
done

missing=()
for name in "${names[@]}"; do
  why=""
  ensure "$name" || missing+=("$("${name}_about"): $why")
done

if [[ ${#missing[@]} == 0 ]]; then
  [[ $mode == check ]] || say "ready: ${names[*]}"
  exit 0
fi
command="bash scripts/test-servers.sh"
[[ $EUID == 0 ]] || command="sudo $command"
{
  printf 'test-servers: the tests need servers that are missing:\n'
  printf '  %s\n' "${missing[@]}"
  printf "Run: %s (npm test runs it first; as root it installs what is missing from Debian's packages and starts what is stopped)\n" "$command"
} >&2
exit 1

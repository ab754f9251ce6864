#!/usr/bin/env bash
# Creates a trytond 6.0 SQLite database ready for the tryton connector: modules party, bank,
# company, currency, country, account, sale and purchase activated, the party categories Customer
# and Supplier, a company "Tandem Demo" in EUR that the admin user belongs to, a bank, and the
# countries the tests use. Writes <dir>/trytond.conf listening on 127.0.0.1:<port>.
#
#   scripts/tryton/create-db.sh <dir> <database> <port> <admin password>
#
# Needs Debian's tryton-server and tryton-modules-{party,bank,company,currency,country,account,
# sale,purchase} (6.0).
set -euo pipefail

dir=${1:?usage: create-db.sh <dir> <database> <port> <admin password>}
database=${2:?database name missing}
port=${3:?port missing}
password=${4:?admin password missing}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for command in trytond trytond-admin; do
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "create-db.sh: '$command' not found: install Debian's tryton-server and tryton-modules-party, -bank, -company, -currency, -country, -account, -sale, -purchase (6.0)" >&2
    exit 127
  fi
done

mkdir -p "$dir"
cat >"$dir/trytond.conf" <<CONF
[database]
uri = sqlite://
path = $dir
list = False

[web]
listen = 127.0.0.1:$port

[session]
timeout = 3600
CONF
# trytond's SQLite backend opens <path>/<database>.sqlite; it must exist before the first init.
touch "$dir/$database.sqlite"
printf '%s\n' "$password" >"$dir/admin-password"

export TRYTONPASSFILE="$dir/admin-password"
# Python's own warnings from the Debian packages are noise here.
export PYTHONWARNINGS=ignore
trytond-admin -c "$dir/trytond.conf" -d "$database" --all --email admin@example.com >"$dir/admin.log" 2>&1
trytond-admin -c "$dir/trytond.conf" -d "$database" -u party bank company currency country account sale purchase --activate-dependencies >>"$dir/admin.log" 2>&1
/usr/bin/python3 "$here/setup-db.py" "$dir/trytond.conf" "$database" >>"$dir/admin.log" 2>&1

#!/usr/bin/env bash
# Starts trytond 6.0 with a fresh demo database for the tryton connector, in the foreground
# (Ctrl-C stops it), and prints how to reach it and the connector config.
#
#   scripts/tryton/demo.sh [port]        # default port: $TRYTON_PORT or 8000
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=${1:-${TRYTON_PORT:-8000}}
database=tandem
password=${TRYTON_ADMIN_PASSWORD:-tandem-admin}
dir=${TRYTON_DEMO_DIR:-$(pwd)/data/tryton-demo}

rm -rf "$dir"
echo "creating the Tryton demo database in $dir (about 30 s) ..."
"$here/create-db.sh" "$dir" "$database" "$port" "$password"

cat <<INFO
Tryton JSON-RPC: http://127.0.0.1:$port/$database/   user: admin   password: $password
Customers are parties in category 'Customer', vendors in 'Supplier'.

connectors:
  accounting:
    kind: tryton
    baseUrl: http://127.0.0.1:$port
    database: $database
    credentials:
      username: admin
      password: \${TRYTON_PASSWORD}      # export TRYTON_PASSWORD=$password
    customerCategory: Customer
    supplierCategory: Supplier
INFO
export PYTHONWARNINGS=ignore
exec trytond -c "$dir/trytond.conf"

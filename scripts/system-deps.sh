#!/usr/bin/env bash
# Install the system packages the tests need, if they are missing: PostgreSQL (audit, SQL
# connector tests) and a Java runtime (HermiT, for the ontology check). Needs root (or sudo)
# only when something is missing.
set -euo pipefail

need=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if ! command -v java >/dev/null 2>&1; then
  need+=(default-jre-headless)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing system packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"

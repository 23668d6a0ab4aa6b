#!/bin/sh
# Restarts the throwaway PostgreSQL cluster pg_virtualenv made (its name is "regress"), for
# the tests of what a restart of the server does to a running shop.
set -e
version=$(pg_lsclusters -h | awk '$2 == "regress" { print $1; exit }')
pg_ctlcluster "$version" regress restart

# Start a throwaway PostgreSQL cluster for the tests and export OSS_TEST_PG_DSN. Sourced by .ci/run.
start_postgres() {
  local bindir port datadir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ]; then echo "PostgreSQL server binaries not found (apt-get install postgresql)"; return 1; fi
  port=${OSS_PG_PORT:-55432}
  datadir=${OSS_PG_DATA:-/tmp/oss-ci-pg}
  if ! su postgres -s /bin/sh -c "$bindir/pg_isready -q -h 127.0.0.1 -p $port" 2>/dev/null; then
    rm -rf "$datadir"; mkdir -p "$datadir"; chown postgres "$datadir"
    su postgres -s /bin/sh -c "$bindir/initdb -D $datadir -A trust -U postgres" >/dev/null
    su postgres -s /bin/sh -c "$bindir/pg_ctl -D $datadir -l $datadir/log -o '-p $port -k /tmp -c listen_addresses=127.0.0.1' -w start" >/dev/null
  fi
  export OSS_TEST_PG_DSN="postgresql://postgres@127.0.0.1:$port/postgres"
  export OSS_TEST_PG_CTL="$bindir/pg_ctl -D $datadir"
  echo "PostgreSQL running: $OSS_TEST_PG_DSN"
}

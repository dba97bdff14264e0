# tests/clickhouse/chserver.sh - start and stop real ClickHouse servers for the clickhouse tier
# (sourced).  Each runs from a copy of Debian's /etc/clickhouse-server/config.xml with its data,
# temporary and log directories under the test's own directory, on free local ports, listening
# on 127.0.0.1 only, UTC, small caches, and a cluster "tamperscope" whose shards are the servers
# given to ch_config.  No system service is touched.

CH_CONF=${CH_CONF:-/etc/clickhouse-server/config.xml}
CH_USERS=${CH_USERS:-/etc/clickhouse-server/users.xml}

# free_ports N: N distinct local TCP ports free now, below the kernel's ephemeral range.  A port
# the kernel handed out (bind to port 0) is one it may hand again to an outgoing connection - the
# test's own curl and clickhouse-client make hundreds - and a server started later on it would
# then fail to listen; below the range only an explicit bind takes a port.
free_ports() {
	python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
top = max(lo - 1, 2047)
picked = []
rng = random.SystemRandom()
while len(picked) < n:
    p = rng.randint(max(1024, top - 12000), top)
    if p in picked:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    picked.append(p)
print(" ".join(map(str, picked)))
PY
}

# ch_config DIR SHARD_TCP_PORT...: DIR/config.xml with ports chosen now (DIR/ports: http tcp
# interserver), the cluster made of the given shards' native ports.
ch_config() {
	d=$1
	shift
	mkdir -p "$d/data" "$d/tmp" "$d/log" "$d/user_files" "$d/format_schemas" "$d/config.d" || return 1
	[ -f "$d/ports" ] || free_ports 3 >"$d/ports"
	read -r http tcp inter <"$d/ports"
	sed -e "s|<path>/var/lib/clickhouse/</path>|<path>$d/data/</path>|" \
		-e "s|<tmp_path>[^<]*</tmp_path>|<tmp_path>$d/tmp/</tmp_path>|" \
		-e "s|<user_files_path>[^<]*</user_files_path>|<user_files_path>$d/user_files/</user_files_path>|" \
		-e "s|<format_schema_path>[^<]*</format_schema_path>|<format_schema_path>$d/format_schemas/</format_schema_path>|" \
		-e "s|<log>[^<]*</log>|<log>$d/log/server.log</log>|" \
		-e "s|<errorlog>[^<]*</errorlog>|<errorlog>$d/log/server.err.log</errorlog>|" \
		-e "s|<http_port>[0-9]*</http_port>|<http_port>$http</http_port>|" \
		-e "s|<tcp_port>[0-9]*</tcp_port>|<tcp_port>$tcp</tcp_port>|" \
		-e "s|<interserver_http_port>[0-9]*</interserver_http_port>|<interserver_http_port>$inter</interserver_http_port>|" \
		"$CH_CONF" >"$d/config.xml" || return 1
	cp "$CH_USERS" "$d/users.xml" || return 1
	{
		echo '<?xml version="1.0"?>'
		echo '<yandex>'
		echo '  <listen_host replace="replace">127.0.0.1</listen_host>'
		echo '  <timezone>UTC</timezone>'
		echo '  <mark_cache_size>67108864</mark_cache_size>'
		echo '  <uncompressed_cache_size>67108864</uncompressed_cache_size>'
		echo '  <remote_servers replace="replace"><tamperscope>'
		for p in "$@"; do
			echo "    <shard><replica><host>127.0.0.1</host><port>$p</port></replica></shard>"
		done
		echo '  </tamperscope></remote_servers>'
		echo '</yandex>'
	} >"$d/config.d/local.xml"
}

ch_http() { read -r http _ _ <"$1/ports"; echo "http://127.0.0.1:$http/"; }
ch_tcp() { read -r _ tcp _ <"$1/ports"; echo "$tcp"; }

# ch_start DIR: start the server configured in DIR and wait until it answers (30 s).
ch_start() {
	clickhouse-server --config-file="$1/config.xml" --pid-file="$1/server.pid" --daemon \
		>"$1/log/start.out" 2>&1 || return 1
	for _ in $(seq 1 300); do
		[ "$(curl -s "$(ch_http "$1")ping" 2>/dev/null)" = "Ok." ] && return 0
		sleep 0.1
	done
	return 1
}

# ch_stop DIR: stop it (the pid it wrote) and wait until it is gone.
ch_stop() {
	[ -f "$1/server.pid" ] || return 0
	pid=$(cat "$1/server.pid")
	kill "$pid" 2>/dev/null || { rm -f "$1/server.pid"; return 0; }
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$1/server.pid"; return 0; }
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	rm -f "$1/server.pid"
}

# chq DIR QUERY: one query over HTTP, the answer on stdout; fails on an error answer.
chq() {
	curl -sS --fail-with-body --data-binary "$2" "$(ch_http "$1")"
}

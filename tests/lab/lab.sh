#!/bin/bash
# lab.sh - real-stack interference lab: real TLS clients and servers in network namespaces, a router namespace that
# censors with iptables (string-match DROP / REJECT tcp-reset, SYN drop, reply drop), tcpdump on the router's
# client-side interface; writes a capture and its truth file.
#
# Usage:
#   lab.sh generate OUTDIR   build the lab, run every scenario, write OUTDIR/lab-interference.{pcap,truth} and
#                            OUTDIR/lab-interference-ca.pem (the run's lab CA, needed to trust the TLS 1.2 chains)
#   lab.sh check BUILDDIR    generate into a temporary directory, then compare BUILDDIR/src/tamperscope's verdicts
#                            with the truth (tests/golden/check-truth.sh); prints one PASS/FAIL line per flow
#   lab.sh live BUILDDIR [N] run BUILDDIR/src/tamperscope -i (--threads N) on the router's client-side interface while real
#                            blocked and unblocked connections happen; check its verdicts, a stall reported while
#                            the wire is quiet, periodic stats events and the final summary after SIGTERM
#
# Safety: every address lives in 198.18.0.0/15 (RFC 2544 benchmarking range) inside namespaces this script creates;
# no namespace has a default route, so nothing can leave the lab. Namespaces and processes are torn down on exit.
# Where the lab cannot run (not root, no netns, no iptables string match) it prints one "SKIP: lab: ..." line.

# Callers may run this with sh (dash): start again under bash, which the rest of the script needs.
# shellcheck disable=SC2317  # the labs' steps are called through lab_main (netns.sh) and the EXIT trap
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi

LAB_HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/netns.sh
. "$LAB_HERE/netns.sh"
LAB_ROOT=$(cd "$LAB_HERE/../.." && pwd)
LAB_NAME=lab-interference
LAB_TAG=lab

# Unique per run so parallel runs never collide.
NS_C="tslab-$$-client"
NS_R="tslab-$$-router"
NS_S="tslab-$$-server"
NAMESPACES=()
LAB_WORK=""
LAB_TMPOUT=""
CAP_PID=""

# Client networks: one client address per network, all on the client's one link to the router.
declare -A NET_CLIENT=([net-a]=198.18.1.10 [net-b]=198.18.2.10 [net-ctl]=198.18.3.10)
declare -A NET_PORT0=([net-a]=41000 [net-b]=42000 [net-ctl]=43000)
declare -A NET_NEXT=([net-a]=1 [net-b]=1 [net-ctl]=1)

# Server names and their addresses (one address per name, like real sites).
declare -A SERVER_IP=(
	[news-site.example]=198.19.1.1
	[humr-site.example]=198.19.1.2
	[ipblocked.example]=198.19.1.3
	[vpn-site.example]=198.19.1.4
	[ipreset.example]=198.19.1.5
	[control-site.example]=198.19.1.6
	[tls13only.example]=198.19.1.7
)
# Names served by socat's forking OpenSSL listener: the censor leaves their server side half-open (the ClientHello
# never arrives), which would wedge the single-connection openssl s_server for every later flow.
SOCAT_NAMES="news-site.example humr-site.example ipblocked.example vpn-site.example ipreset.example"

# Seconds curl waits before giving up on a censored flow: well past the analyser's 3 s stall timeout and long enough
# for several ClientHello (or SYN) retransmissions.
STALL_MAXTIME=6
OK_MAXTIME=10

TRUTH_LINES=()
LAB_SKIP_REASON=""
BATCH_PIDS=()
FLOW_ERRORS=()

lab_log() { printf 'lab: %s\n' "$*" >&2; }

# Sets LAB_SKIP_REASON (and returns 1) when the lab cannot run here. Leaves the router namespace created.
lab_preflight() {
	lab_need_base ip iptables tcpdump curl openssl socat ethtool || return 1
	if ! nsx "$NS_R" iptables -A FORWARD -p tcp -m string --algo bm --string tslab-probe -j DROP >/dev/null 2>&1; then
		LAB_SKIP_REASON="iptables string match unavailable"
		return 1
	fi
	if ! nsx "$NS_R" iptables -A FORWARD -p tcp -m length --length 100:65535 \
		-j REJECT --reject-with tcp-reset >/dev/null 2>&1; then
		LAB_SKIP_REASON="iptables REJECT tcp-reset or length match unavailable"
		return 1
	fi
	nsx "$NS_R" iptables -F FORWARD >/dev/null 2>&1
}

lab_build_net() {
	local ns name ip
	ip netns add "$NS_C" || return 1
	NAMESPACES+=("$NS_C")
	ip netns add "$NS_S" || return 1
	NAMESPACES+=("$NS_S")
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		# No IPv6 at all: no neighbour discovery noise, no address outside 198.18.0.0/15.
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
			>/dev/null 2>&1
		ip -n "$ns" link set lo up || return 1
	done
	ip -n "$NS_C" link add c0 type veth peer name r0 netns "$NS_R" || return 1
	ip -n "$NS_R" link add r1 type veth peer name s0 netns "$NS_S" || return 1
	lab_no_offload "$NS_C" c0 && lab_no_offload "$NS_R" r0 &&
		lab_no_offload "$NS_R" r1 && lab_no_offload "$NS_S" s0 || return 1

	# Client: one address per network; only the server range is routable (no default route anywhere).
	for ip in "${NET_CLIENT[@]}"; do
		ip -n "$NS_C" addr add "$ip/24" dev c0 || return 1
	done
	ip -n "$NS_C" link set c0 up || return 1
	ip -n "$NS_R" addr add 198.18.1.1/24 dev r0 &&
		ip -n "$NS_R" addr add 198.18.2.1/24 dev r0 &&
		ip -n "$NS_R" addr add 198.18.3.1/24 dev r0 &&
		ip -n "$NS_R" addr add 198.19.0.1/24 dev r1 &&
		ip -n "$NS_R" link set r0 up && ip -n "$NS_R" link set r1 up || return 1
	ip -n "$NS_S" addr add 198.19.0.2/24 dev s0 && ip -n "$NS_S" link set s0 up || return 1
	for name in "${!SERVER_IP[@]}"; do
		ip -n "$NS_S" addr add "${SERVER_IP[$name]}/32" dev lo || return 1
	done
	ip -n "$NS_C" route add 198.19.0.0/16 via 198.18.3.1 dev c0 &&
		ip -n "$NS_R" route add 198.19.1.0/24 via 198.19.0.2 dev r1 &&
		ip -n "$NS_S" route add 198.18.0.0/16 via 198.19.0.1 dev s0 || return 1
	nsx "$NS_R" sysctl -qw net.ipv4.ip_forward=1 >/dev/null || return 1
}

fwd() { nsx "$NS_R" iptables -A FORWARD "$@"; }

# The censor. Per client network, as on different ISPs; net-ctl is never touched.
lab_censor() {
	# net-a (AS9198 role): SNI-triggered stall (ClientHello silently dropped) and IP blackholing (SYN dropped).
	fwd -s 198.18.1.0/24 -p tcp --dport 443 -m string --algo bm --string news-site.example -j DROP &&
		fwd -s 198.18.1.0/24 -p tcp --dport 443 -m string --algo bm --string humr-site.example -j DROP &&
		fwd -s 198.18.1.0/24 -d "${SERVER_IP[ipblocked.example]}" -p tcp --syn -j DROP || return 1
	# net-b (AS21299 role): SNI-triggered RST injection (the router answers the ClientHello with a RST carrying
	# the server's address but the router's own TTL), server flight dropped (the server ACKs the ClientHello,
	# its data never reaches the client), and SYN answered by a RST.
	fwd -s 198.18.2.0/24 -p tcp --dport 443 -m string --algo bm --string humr-site.example \
		-j REJECT --reject-with tcp-reset &&
		fwd -s "${SERVER_IP[vpn-site.example]}" -d 198.18.2.0/24 -p tcp --sport 443 \
			-m length --length 100:65535 -j DROP &&
		fwd -s 198.18.2.0/24 -d "${SERVER_IP[ipreset.example]}" -p tcp --syn \
			-j REJECT --reject-with tcp-reset || return 1
}

lab_make_certs() {
	local d=$LAB_WORK san="" name
	for name in "${!SERVER_IP[@]}"; do
		san="${san:+$san,}DNS:$name"
	done
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/labca.pem" -days 3650 \
		-subj "/O=tamperscope lab/CN=tamperscope lab CA" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		>/dev/null 2>&1 || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/srv.key" -out "$d/srv.csr" -subj "/O=tamperscope lab/CN=lab sites" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
		"$san" >"$d/srv.ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/labca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 3650 -extfile "$d/srv.ext" -out "$d/srv.pem" >/dev/null 2>&1 || return 1
}

lab_start_servers() {
	local name ip only13 key="$LAB_WORK/srv.key" cert="$LAB_WORK/srv.pem"
	echo "tamperscope lab: ok" >"$LAB_WORK/lab.txt"
	for name in "${!SERVER_IP[@]}"; do
		ip=${SERVER_IP[$name]}
		lab_addr_ok "$ip" || return 1
		if [[ " $SOCAT_NAMES " == *" $name "* ]]; then
			ip netns exec "$NS_S" socat \
				"OPENSSL-LISTEN:443,bind=$ip,reuseaddr,fork,cert=$cert,key=$key,verify=0" \
				"SYSTEM:sh $LAB_HERE/http-reply.sh" </dev/null >"$LAB_WORK/srv-$name.log" 2>&1 &
		else
			# -WWW serves ./lab.txt from the work directory: a few bytes instead of -www's status page keeps
			# the capture small.
			[ "$name" = tls13only.example ] && only13=-tls1_3 || only13=""
			(cd "$LAB_WORK" && exec ip netns exec "$NS_S" openssl s_server -accept "$ip:443" \
				-cert "$cert" -key "$key" -WWW -quiet $only13 </dev/null >"$LAB_WORK/srv-$name.log" 2>&1) &
		fi
	done
	for _ in $(seq 50); do
		[ "$(nsx "$NS_S" ss -Hltn 'sport = :443' | wc -l)" -ge "${#SERVER_IP[@]}" ] && return 0
		sleep 0.1
	done
	lab_log "servers did not start listening"
	return 1
}

# The curl exit status each verdict must produce; anything else means the truth line would be a lie.
lab_expected_rc() {
	case "$1" in
	ok) echo "0" ;;
	tls_stall | syn_timeout) echo "28" ;;
	syn_reset) echo "7" ;;
	tls_reset) echo "35 56" ;;
	tls_alert) echo "35" ;;
	*) echo "none" ;;
	esac
}

# flow NET NAME TLSVER VERDICT NOTE [bg]: one curl connection with a fixed source port; records its truth line.
flow() {
	local net=$1 name=$2 ver=$3 verdict=$4 note=$5 bg=${6:-}
	local caddr=${NET_CLIENT[$net]} sip=${SERVER_IP[$name]}
	local port=$((NET_PORT0[$net] + NET_NEXT[$net])) maxtime=$OK_MAXTIME sni=$name verflags=()
	NET_NEXT[$net]=$((NET_NEXT[$net] + 1))
	if ! lab_addr_ok "$caddr" || ! lab_addr_ok "$sip"; then
		FLOW_ERRORS+=("address outside 198.18.0.0/15: $caddr $sip")
		return
	fi
	case "$ver" in
	1.2) verflags=(--tlsv1.2 --tls-max 1.2) ;;
	1.3) verflags=(--tlsv1.3) ;;
	esac
	case "$verdict" in
	ok | tls_alert | tls_reset | syn_reset) ;;
	*) maxtime=$STALL_MAXTIME ;;
	esac
	# No ClientHello is ever sent when the SYN is blocked, so the truth has no SNI for those flows.
	case "$verdict" in
	syn_*) sni="-" note="$note (curl asked for $name)" ;;
	esac
	# socat's OpenSSL server prefers P-256 while curl sends an X25519 key share: a HelloRetryRequest and a
	# second ClientHello precede the real ServerHello.
	if [ "$verdict" = ok ] && [ "$ver" = 1.3 ] && [[ " $SOCAT_NAMES " == *" $name "* ]]; then
		note="$note, HelloRetryRequest then second ClientHello"
	fi
	TRUTH_LINES+=("$caddr:$port	$sip:443	$sni	$verdict	$net	$note, TLS$ver")
	echo "$port $net $name $verdict" >>"$LAB_WORK/flows"
	# -q first: ignore any ~/.curlrc; --noproxy: never leave the lab through a proxy.
	local cmd=(curl -q -sS -o /dev/null --noproxy '*' --max-time "$maxtime" --interface "$caddr"
		--local-port "$port" --resolve "$name:443:$sip" --cacert "$LAB_WORK/labca.pem" "${verflags[@]}"
		"https://$name/lab.txt")
	if [ "$bg" = bg ]; then
		(
			nsx "$NS_C" "${cmd[@]}" 2>"$LAB_WORK/curl.$port.err"
			echo $? >"$LAB_WORK/rc.$port"
		) &
		BATCH_PIDS+=($!)
	else
		nsx "$NS_C" "${cmd[@]}" 2>"$LAB_WORK/curl.$port.err"
		echo $? >"$LAB_WORK/rc.$port"
		sleep 0.2
	fi
}

lab_scenarios() {
	local v name
	# --- censored flows, in small parallel batches (each waits STALL_MAXTIME) ---
	batch_begin
	flow net-a news-site.example 1.3 tls_stall "string-match DROP of ClientHello" bg
	flow net-a news-site.example 1.2 tls_stall "string-match DROP of ClientHello" bg
	flow net-a humr-site.example 1.3 tls_stall "string-match DROP of ClientHello" bg
	flow net-a humr-site.example 1.2 tls_stall "string-match DROP of ClientHello" bg
	batch_end
	batch_begin
	flow net-a news-site.example 1.3 tls_stall "string-match DROP of ClientHello" bg
	flow net-a humr-site.example 1.3 tls_stall "string-match DROP of ClientHello" bg
	flow net-a ipblocked.example 1.3 syn_timeout "SYN DROP to server address" bg
	flow net-a ipblocked.example 1.2 syn_timeout "SYN DROP to server address" bg
	batch_end
	batch_begin
	flow net-a ipblocked.example 1.3 syn_timeout "SYN DROP to server address" bg
	flow net-b vpn-site.example 1.3 tls_stall "server flight dropped, server ACKed ClientHello" bg
	flow net-b vpn-site.example 1.2 tls_stall "server flight dropped, server ACKed ClientHello" bg
	flow net-b vpn-site.example 1.3 tls_stall "server flight dropped, server ACKed ClientHello" bg
	batch_end

	# --- quick censored flows, one at a time ---
	flow net-b humr-site.example 1.3 tls_reset "string-match REJECT tcp-reset, router TTL"
	flow net-b humr-site.example 1.2 tls_reset "string-match REJECT tcp-reset, router TTL"
	flow net-b humr-site.example 1.3 tls_reset "string-match REJECT tcp-reset, router TTL"
	flow net-b ipreset.example 1.3 syn_reset "SYN REJECT tcp-reset, router TTL"
	flow net-b ipreset.example 1.2 syn_reset "SYN REJECT tcp-reset, router TTL"
	flow net-b ipreset.example 1.3 syn_reset "SYN REJECT tcp-reset, router TTL"

	# --- names each network leaves alone ---
	for v in 1.3 1.2; do
		flow net-a control-site.example $v ok "not censored on net-a"
		flow net-a vpn-site.example $v ok "not censored on net-a"
		flow net-b control-site.example $v ok "not censored on net-b"
		flow net-b news-site.example $v ok "not censored on net-b"
	done
	# --- control network: every name works ---
	for name in news-site.example humr-site.example vpn-site.example ipblocked.example ipreset.example \
		control-site.example; do
		for v in 1.3 1.2; do
			flow net-ctl "$name" $v ok "control network, no censorship"
		done
	done
	# --- a TLS 1.3-only server refuses a TLS 1.2-only client: genuine alert, no censor involved ---
	flow net-ctl tls13only.example 1.3 ok "TLS1.3-only server"
	for name in net-a net-b net-ctl; do
		flow $name tls13only.example 1.2 tls_alert "TLS1.3-only server sends protocol_version alert"
	done
}

# Every flow's curl outcome must match its verdict.
lab_check_outcomes() {
	local port net name verdict rc want
	while read -r port net name verdict; do
		rc=$(cat "$LAB_WORK/rc.$port" 2>/dev/null || echo missing)
		want=$(lab_expected_rc "$verdict")
		case " $want " in
		*" $rc "*) ;;
		*) FLOW_ERRORS+=("flow $port ($name on $net) expected $verdict (curl exit $want) but curl exited $rc: $(head -c 200 "$LAB_WORK/curl.$port.err")") ;;
		esac
	done <"$LAB_WORK/flows"
}

# The capture must hold exactly the flows of the truth: same (client, server) pairs, nothing else.
lab_check_capture() {
	local d
	d=$(lab_capture_diff "${TRUTH_LINES[@]}")
	[ -z "$d" ] || FLOW_ERRORS+=("capture flows differ from truth: $d")
}

lab_write_truth() {
	local out=$1 line
	{
		echo "# $LAB_NAME: real-stack lab capture made by tests/lab/lab.sh generate (regenerate: tests/lab/lab.sh generate pcaps)"
		echo "# capture point: router namespace, client-side interface (client side of the censor)"
		echo "# networks: net-a 198.18.1.0/24 (AS9198 role), net-b 198.18.2.0/24 (AS21299 role), net-ctl 198.18.3.0/24 (control, uncensored)"
		echo "# TTL at the capture point: client 64, server 63 (one router hop), RST injected by the router 64"
		echo "# trust anchor for the TLS 1.2 chains: lab-interference-ca.pem (made at run time)"
		echo "# args: --ca-bundle @PCAPDIR@/$LAB_NAME-ca.pem"
		printf 'client\tserver\tsni\tverdict\tnetwork\tnote\n'
		for line in "${TRUTH_LINES[@]}"; do
			printf '%s\n' "$line"
		done
	} >"$out"
}

lab_generate() {
	local outdir=$1 e
	lab_preflight || return 2
	mkdir -p "$outdir" || return 1
	LAB_WORK=$(mktemp -d /tmp/tslab.XXXXXX) || return 1
	: >"$LAB_WORK/flows"
	lab_build_net || { lab_log "building the namespaces failed"; return 1; }
	lab_censor || { lab_log "installing the censor rules failed"; return 1; }
	lab_make_certs || { lab_log "making the lab certificates failed"; return 1; }
	lab_start_servers || return 1
	lab_start_capture tcp || return 1
	lab_scenarios
	sleep 1
	lab_stop_capture
	lab_teardown
	lab_check_outcomes
	lab_check_capture
	if [ "${#FLOW_ERRORS[@]}" -gt 0 ]; then
		for e in "${FLOW_ERRORS[@]}"; do
			lab_log "$e"
		done
		lab_log "not writing $outdir/$LAB_NAME.*: the lab did not behave as its truth says"
		return 1
	fi
	cp "$LAB_WORK/cap.pcap" "$outdir/$LAB_NAME.pcap" &&
		cp "$LAB_WORK/labca.pem" "$outdir/$LAB_NAME-ca.pem" &&
		lab_write_truth "$outdir/$LAB_NAME.truth" || return 1
	lab_log "wrote $outdir/$LAB_NAME.pcap ($(wc -c <"$outdir/$LAB_NAME.pcap") bytes, ${#TRUTH_LINES[@]} flows)"
}

# A short set of flows for the live test: each kind of censorship once or twice, and controls.
lab_live_scenarios() {
	batch_begin
	flow net-a news-site.example 1.3 tls_stall "string-match DROP of ClientHello" bg
	flow net-a ipblocked.example 1.2 syn_timeout "SYN DROP to server address" bg
	flow net-b vpn-site.example 1.3 tls_stall "server flight dropped, server ACKed ClientHello" bg
	batch_end
	flow net-b humr-site.example 1.3 tls_reset "string-match REJECT tcp-reset, router TTL"
	flow net-b ipreset.example 1.2 syn_reset "SYN REJECT tcp-reset, router TTL"
	flow net-a control-site.example 1.3 ok "not censored on net-a"
	flow net-ctl news-site.example 1.2 ok "control network, no censorship"
	flow net-ctl humr-site.example 1.3 ok "control network, no censorship"
}

# One stalled flow after which the wire goes quiet: once the ClientHello is
# out, the client's own retransmissions are dropped inside the client
# namespace, so nothing of this flow reaches the capture point any more.
# Prints the client port.
lab_quiet_stall() {
	local port=$((NET_PORT0[net-a] + NET_NEXT[net-a]))
	flow net-a humr-site.example 1.3 tls_stall "string-match DROP of ClientHello, then a quiet wire" bg
	sleep 0.5
	nsx "$NS_C" iptables -A OUTPUT -p tcp --sport "$port" -j DROP
	echo "$port"
}

lab_live() {
	local ts=$1 threads=${2:-1} T W live_pid port rc n verdict want got fails=0 line client targs=()
	# T: the test's name; with worker threads the same checks, and each worker's socket counted
	T=lab-live
	if [ "$threads" -gt 1 ]; then
		T=lab-live-threads$threads
		targs=(--threads "$threads")
	fi
	lab_preflight || return 2
	LAB_WORK=$(mktemp -d /tmp/tslab.XXXXXX) || return 1
	W=$LAB_WORK
	: >"$W/flows"
	lab_build_net || { echo "FAIL: $T: building the namespaces failed"; return 1; }
	lab_censor && lab_make_certs && lab_start_servers || { echo "FAIL: $T: lab set-up failed"; return 1; }
	ip netns exec "$NS_R" "$ts" -i r0 "${targs[@]}" --stats-interval 4s --events "$W/live.json" \
		--ca-bundle "$W/labca.pem" \
		--metrics-file "$W/live.prom" tcp >"$W/live.out" 2>"$W/live.err" &
	live_pid=$!
	sleep 1.5
	if ! kill -0 "$live_pid" 2>/dev/null; then
		echo "FAIL: $T: tamperscope -i r0 did not start: $(head -2 "$W/live.err" | tr '\n' ' ')"
		return 1
	fi
	lab_live_scenarios
	sleep 1
	# The wire is quiet from here on but for the one stalled flow's first packets.
	port=$(lab_quiet_stall)
	sleep 5.5 # ClientHello at ~0.3 s, stall timeout 3 s, polling 0.1 s: well within
	if grep -q "\"src_port\":$port,.*\"verdict\":\"tls_stall\"" "$W/live.json"; then
		echo "PASS: $T: stall reported while the wire was quiet (client port $port)"
	else
		echo "FAIL: $T: no tls_stall event for client port $port within 5.5 s of a quiet wire"
		fails=1
	fi
	batch_end
	sleep 4.5
	kill -TERM "$live_pid"
	wait "$live_pid"
	rc=$?
	[ "$rc" = 0 ] && echo "PASS: $T: exit 0 after SIGTERM" || { echo "FAIL: $T: exit $rc after SIGTERM"; fails=1; }
	n=$(grep -c '"event_type":"stats"' "$W/live.json")
	[ "$n" -ge 2 ] && echo "PASS: $T: $n stats events" || { echo "FAIL: $T: only $n stats events"; fails=1; }
	if grep -q '^server name' "$W/live.out" && grep -q '^news-site.example' "$W/live.out"; then
		echo "PASS: $T: final summary written after SIGTERM"
	else
		echo "FAIL: $T: no final summary on stdout after SIGTERM"
		fails=1
	fi
	grep -q '^tamperscope_flows_total{verdict="tls_stall"} [1-9]' "$W/live.prom" &&
		echo "PASS: $T: metrics file counts stalls" ||
		{ echo "FAIL: $T: metrics file does not count stalls"; fails=1; }
	# Every flow of the run has exactly one event with the truth's verdict.
	for line in "${TRUTH_LINES[@]}"; do
		client=$(printf '%s\n' "$line" | cut -f1)
		want=$(printf '%s\n' "$line" | cut -f4)
		got=$(jq -r --arg c "${client%:*}" --argjson p "${client##*:}" \
			'select(.event_type=="flow" and .src_ip==$c and .src_port==$p) | .verdict' "$W/live.json" | tr '\n' ' ')
		if [ "$got" = "$want " ]; then
			echo "PASS: $T: $client $want"
		else
			echo "FAIL: $T: $client expected $want got ${got:-nothing}"
			fails=1
		fi
	done
	[ "$threads" -gt 1 ] && { lab_live_workers "$threads" || fails=1; }
	return $fails
}

# With worker threads: every stats event and the metrics file count each
# worker's socket, and the workers' counts add up to the totals.
lab_live_workers() {
	local threads=$1 W=$LAB_WORK n bad per
	n=$(jq -r 'select(.event_type=="stats") | .stats.kernel.workers | length' "$W/live.json" | sort -u | tr '\n' ' ')
	[ "$n" = "$threads " ] && echo "PASS: $T: stats events count $threads workers' sockets" ||
		{ echo "FAIL: $T: stats events' kernel.workers lengths: '$n', want $threads"; return 1; }
	bad=$(jq -r 'select(.event_type=="stats") | .stats.kernel |
		select(([.workers[].received] | add) != .received or ([.workers[].dropped] | add) != .dropped)' "$W/live.json")
	[ -z "$bad" ] && echo "PASS: $T: workers' socket counts add up to the totals" ||
		{ echo "FAIL: $T: workers' socket counts do not add up: $bad"; return 1; }
	n=$(jq -s '[.[] | select(.event_type=="stats")] | last | .stats.kernel.received' "$W/live.json")
	per=$(jq -s -r '[.[] | select(.event_type=="stats")] | last | [.stats.kernel.workers[].received] | join(" + ")' \
		"$W/live.json")
	[ "$n" -gt 0 ] && echo "PASS: $T: the workers' sockets received $n packets ($per)" ||
		{ echo "FAIL: $T: the workers' sockets received nothing"; return 1; }
	n=$(grep -c '^tamperscope_kernel_worker_dropped_total{worker="[0-9]*"} [0-9]*$' "$W/live.prom")
	[ "$n" = "$threads" ] && echo "PASS: $T: metrics file has each worker's kernel drops" ||
		{ echo "FAIL: $T: metrics file has $n per-worker drop lines, want $threads"; return 1; }
	grep -q "worker 1: [0-9]* received" "$W/live.err" && echo "PASS: $T: closing lines per worker" ||
		{ echo "FAIL: $T: no per-worker closing line on stderr"; return 1; }
}

# live BUILDDIR [THREADS] (lab_live), else generate / check (lab_main).
main() {
	local ts
	LAB_MORE_USAGE=" | $0 live BUILDDIR [THREADS]"
	[ "${1:-}" = live ] || lab_main lab_generate lab_check_truth "$@"
	[ -n "${2:-}" ] || { echo "usage: $0 live BUILDDIR [THREADS]" >&2; exit 2; }
	LAB_TAG=lab-live
	ts=$(lab_tamperscope "$2") || { echo "$ts"; exit 0; }
	lab_live "$ts" "${3:-1}"
	case $? in
	0) exit 0 ;;
	2) echo "SKIP: lab-live: $LAB_SKIP_REASON"; exit 0 ;;
	*) exit 1 ;;
	esac
}

# Sourced by tests/lab/vantage.sh (LAB_SOURCED=1) for its network, servers and flows: no main then.
[ "${LAB_SOURCED:-0}" = 1 ] || main "$@"

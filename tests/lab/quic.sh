#!/bin/bash
# quic.sh - real-stack QUIC lab: Debian's ngtcp2 examples (gtlsserver / gtlsclient) and TLS over TCP (socat OpenSSL
# listeners, curl) to the same names, in network namespaces; a router that black-holes UDP/443 to one server for one
# client network while TCP/443 to it works, drops only the server's replies for another, and leaves a control network
# alone; tcpdump on the router's client-side interface.
#
# Usage:
#   quic.sh generate OUTDIR   build the lab, run every flow, write OUTDIR/lab-quic.{pcap,truth}
#   quic.sh check BUILDDIR    generate into a temporary directory, then compare BUILDDIR/src/tamperscope's verdicts with
#                             the truth (tests/golden/check-truth.sh), one PASS/FAIL line per flow
#
# What Debian's ngtcp2 0.12 examples need (../shared/DESIGN.md): the client sends the host argument as SNI only when it
# is a name, so each client runs in a private mount namespace with a hosts file bind-mounted over /etc/hosts; it
# cannot bind a source address, so each client network has its own uid and an `ip rule uidrange` to a table whose
# route carries that network's source; nor a source port, so the client namespace's ephemeral range is narrowed to the
# one port the truth names while that client starts.  UDP segmentation offload is off on every link and the server
# runs with --max-gso-dgrams=1, so the capture holds datagrams a real link carries.
#
# Safety: addresses only from 198.18.0.0/15, no default route anywhere, namespaces named qlab-<pid>-*, all torn down on
# exit.  Where the lab cannot run it prints one "SKIP: lab-quic: ..." line.

# shellcheck disable=SC2317  # the labs' steps are called through lab_main (netns.sh) and the EXIT trap
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi

LAB_HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/netns.sh
. "$LAB_HERE/netns.sh"
LAB_ROOT=$(cd "$LAB_HERE/../.." && pwd)
LAB_NAME=lab-quic
LAB_TAG=lab-quic

NS_C="qlab-$$-client"
NS_R="qlab-$$-router"
NS_S="qlab-$$-server"
NAMESPACES=()
LAB_WORK=""
LAB_TMPOUT=""
CAP_PID=""

# One client address, uid and routing table per network: the uid picks the source address (ip rule uidrange).
declare -A NET_CLIENT=([net-a]=198.18.1.10 [net-b]=198.18.2.10 [net-ctl]=198.18.3.10)
declare -A NET_GW=([net-a]=198.18.1.1 [net-b]=198.18.2.1 [net-ctl]=198.18.3.1)
declare -A NET_UID=([net-a]=64601 [net-b]=64602 [net-ctl]=64603)
declare -A NET_PORT0=([net-a]=51000 [net-b]=52000 [net-ctl]=53000)
declare -A NET_NEXT=([net-a]=1 [net-b]=1 [net-ctl]=1)
declare -A SERVER_IP=([quic-news.example]=198.19.1.1 [quic-video.example]=198.19.1.2)

# Seconds a censored client tries: well past the 3 s stall timeout, long enough for Initial retransmissions (PTO 1 s,
# doubling) and TCP ClientHello retransmissions.
STALL_TIME=6
OK_TIME=10

TRUTH_LINES=()
LAB_SKIP_REASON=""
BATCH_PIDS=()
FLOW_ERRORS=()

lab_log() { printf 'lab-quic: %s\n' "$*" >&2; }

lab_preflight() {
	lab_need_base ip iptables tcpdump curl openssl socat ethtool gtlsserver gtlsclient setpriv unshare || {
		case $LAB_SKIP_REASON in
		*" not installed") LAB_SKIP_REASON+=" (ngtcp2-server / ngtcp2-client / util-linux)" ;;
		esac
		return 1
	}
}

# lab_no_offload plus UDP segmentation: a GSO datagram would reach the capture as one 2.8 kB "packet".
quic_no_offload() {
	lab_no_offload "$1" "$2" || return 1
	nsx "$1" ethtool -K "$2" tx-udp-segmentation off >/dev/null 2>&1
	! nsx "$1" ethtool -k "$2" 2>/dev/null | grep -q '^tx-udp-segmentation: on'
}

lab_build_net() {
	local ns net name table=100
	ip netns add "$NS_C" || return 1
	NAMESPACES+=("$NS_C")
	ip netns add "$NS_S" || return 1
	NAMESPACES+=("$NS_S")
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
		ip -n "$ns" link set lo up || return 1
	done
	ip -n "$NS_C" link add c0 type veth peer name r0 netns "$NS_R" || return 1
	ip -n "$NS_R" link add r1 type veth peer name s0 netns "$NS_S" || return 1
	quic_no_offload "$NS_C" c0 && quic_no_offload "$NS_R" r0 &&
		quic_no_offload "$NS_R" r1 && quic_no_offload "$NS_S" s0 || return 1
	ip -n "$NS_C" link set c0 up || return 1
	for net in "${!NET_CLIENT[@]}"; do
		lab_addr_ok "${NET_CLIENT[$net]}" || return 1
		ip -n "$NS_C" addr add "${NET_CLIENT[$net]}/24" dev c0 &&
			ip -n "$NS_R" addr add "${NET_GW[$net]}/24" dev r0 || return 1
		# The network's uid routes from the network's own address.
		table=$((table + 1))
		ip -n "$NS_C" route add 198.19.0.0/16 via "${NET_GW[$net]}" dev c0 src "${NET_CLIENT[$net]}" \
			table "$table" &&
			ip -n "$NS_C" rule add uidrange "${NET_UID[$net]}-${NET_UID[$net]}" lookup "$table" || return 1
	done
	ip -n "$NS_R" addr add 198.19.0.1/24 dev r1 && ip -n "$NS_R" link set r0 up &&
		ip -n "$NS_R" link set r1 up || return 1
	ip -n "$NS_S" addr add 198.19.0.2/24 dev s0 && ip -n "$NS_S" link set s0 up || return 1
	for name in "${!SERVER_IP[@]}"; do
		ip -n "$NS_S" addr add "${SERVER_IP[$name]}/32" dev lo || return 1
	done
	ip -n "$NS_C" route add 198.19.0.0/16 via 198.18.3.1 dev c0 &&
		ip -n "$NS_R" route add 198.19.1.0/24 via 198.19.0.2 dev r1 &&
		ip -n "$NS_S" route add 198.18.0.0/16 via 198.19.0.1 dev s0 || return 1
	nsx "$NS_R" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
}

fwd() { nsx "$NS_R" iptables -A FORWARD "$@"; }

# net-a: UDP/443 to quic-news black-holed, TCP/443 to it untouched (QUIC blocked, TLS over TCP works).
# net-b: only the server's replies to quic-news are dropped: every UDP datagram from its port 443, and its TCP
# segments of 100 bytes or more (the TLS flight; its bare ACKs pass, as in lab.sh).  net-ctl: nothing.
lab_censor() {
	local news=${SERVER_IP[quic-news.example]}
	fwd -s 198.18.1.0/24 -d "$news" -p udp --dport 443 -j DROP &&
		fwd -s "$news" -d 198.18.2.0/24 -p udp --sport 443 -j DROP &&
		fwd -s "$news" -d 198.18.2.0/24 -p tcp --sport 443 -m length --length 100:65535 -j DROP
}

lab_make_cert() {
	local san="" name
	for name in "${!SERVER_IP[@]}"; do
		san="${san:+$san,}DNS:$name"
	done
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$LAB_WORK/srv.key" -out "$LAB_WORK/srv.pem" -days 30 \
		-subj "/O=tamperscope lab/CN=quic lab sites" -addext "subjectAltName=$san" >/dev/null 2>&1
}

lab_start_servers() {
	local name ip n=0
	mkdir -p "$LAB_WORK/htdocs" && echo "tamperscope lab: ok" >"$LAB_WORK/htdocs/lab.txt"
	for name in "${!SERVER_IP[@]}"; do
		ip=${SERVER_IP[$name]}
		lab_addr_ok "$ip" || return 1
		ip netns exec "$NS_S" gtlsserver -q --max-gso-dgrams=1 -d "$LAB_WORK/htdocs" "$ip" 443 \
			"$LAB_WORK/srv.key" "$LAB_WORK/srv.pem" </dev/null >"$LAB_WORK/quic-$name.log" 2>&1 &
		# socat forks per connection: a censored flow leaves the server side half-open.
		ip netns exec "$NS_S" socat \
			"OPENSSL-LISTEN:443,bind=$ip,reuseaddr,fork,cert=$LAB_WORK/srv.pem,key=$LAB_WORK/srv.key,verify=0" \
			"SYSTEM:sh $LAB_HERE/http-reply.sh" </dev/null >"$LAB_WORK/tcp-$name.log" 2>&1 &
		n=$((n + 1))
	done
	for _ in $(seq 50); do
		if [ "$(nsx "$NS_S" ss -Hltn 'sport = :443' | wc -l)" -ge "$n" ] &&
			[ "$(nsx "$NS_S" ss -Hlun 'sport = :443' | wc -l)" -ge "$n" ]; then
			return 0
		fi
		sleep 0.1
	done
	lab_log "servers did not start listening"
	return 1
}

# flow TRANSPORT NET NAME VERDICT NOTE [bg]: one connection; records its truth line.  TRANSPORT is quic or tcp.
flow() {
	local tr=$1 net=$2 name=$3 verdict=$4 note=$5 bg=${6:-}
	local caddr=${NET_CLIENT[$net]} sip=${SERVER_IP[$name]} port t=$OK_TIME
	port=$((NET_PORT0[$net] + NET_NEXT[$net]))
	NET_NEXT[$net]=$((NET_NEXT[$net] + 1))
	[ "$verdict" = ok ] || t=$STALL_TIME
	local proto=UDP
	[ "$tr" = tcp ] && proto=TCP
	TRUTH_LINES+=("$caddr:$port	$sip:443	$name	$verdict	$net	$note, $proto")
	echo "$port $tr $net $name $verdict" >>"$LAB_WORK/flows"
	if [ "$tr" = tcp ]; then
		local cmd=(curl -q -sS -o /dev/null --noproxy '*' --max-time "$t" --interface "$caddr" --local-port "$port"
			--resolve "$name:443:$sip" --cacert "$LAB_WORK/srv.pem" --tlsv1.3 "https://$name/lab.txt")
		( nsx "$NS_C" "${cmd[@]}" 2>"$LAB_WORK/err.$port"; echo $? >"$LAB_WORK/rc.$port" ) &
	else
		printf '%s %s\n' "$sip" "$name" >"$LAB_WORK/hosts.$port"
		mkdir -p "$LAB_WORK/dl.$port" && chmod 777 "$LAB_WORK/dl.$port"
		# The only free ephemeral port is the truth's while this client binds.
		nsx "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="$port $port" || FLOW_ERRORS+=("port range $port")
		( nsx "$NS_C" unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh \
			"$LAB_WORK/hosts.$port" setpriv --reuid="${NET_UID[$net]}" --regid="${NET_UID[$net]}" \
			--clear-groups gtlsclient -q --exit-on-all-streams-close --handshake-timeout="${t}s" \
			--download="$LAB_WORK/dl.$port" "$name" 443 "https://$name/lab.txt" \
			>"$LAB_WORK/out.$port" 2>"$LAB_WORK/err.$port"; echo $? >"$LAB_WORK/rc.$port" ) &
		for _ in $(seq 50); do
			nsx "$NS_C" ss -Hun "sport = :$port" | grep -q . && break
			[ -f "$LAB_WORK/rc.$port" ] && break
			sleep 0.02
		done
	fi
	if [ "$bg" = bg ]; then
		BATCH_PIDS+=($!)
	else
		wait $!
		sleep 0.2
	fi
}

lab_scenarios() {
	local i
	# --- censored: net-a's QUIC to quic-news, net-b's QUIC and TCP to quic-news, in parallel ---
	batch_begin
	for i in 1 2 3; do
		flow quic net-a quic-news.example quic_stall "UDP/443 to the server black-holed" bg
		flow quic net-b quic-news.example quic_stall "server replies dropped" bg
		flow tcp net-b quic-news.example tls_stall "server replies dropped, server ACKed ClientHello" bg
	done
	batch_end
	# --- TLS over TCP to the same name works on net-a; the other name works over QUIC there ---
	for i in 1 2 3; do
		flow tcp net-a quic-news.example ok "TCP/443 to the server not censored"
	done
	for i in 1 2; do
		flow quic net-a quic-video.example ok "QUIC to another server not censored"
	done
	flow tcp net-a quic-video.example ok "not censored"
	flow quic net-b quic-video.example ok "QUIC to another server not censored"
	# --- control network: everything works ---
	for i in 1 2; do
		flow quic net-ctl quic-news.example ok "control network, no censorship"
		flow tcp net-ctl quic-news.example ok "control network, no censorship"
	done
	flow quic net-ctl quic-video.example ok "control network, no censorship"
	nsx "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
}

# Every client's outcome must match its verdict: curl's exit status; for gtlsclient (which exits 0 either way) the
# downloaded file, or ERR_HANDSHAKE_TIMEOUT.
lab_check_outcomes() {
	local port tr net name verdict rc
	while read -r port tr net name verdict; do
		rc=$(cat "$LAB_WORK/rc.$port" 2>/dev/null || echo missing)
		if [ "$tr" = tcp ]; then
			case "$verdict:$rc" in
			ok:0 | tls_stall:28) continue ;;
			esac
		elif [ "$verdict" = ok ] && grep -q "tamperscope lab: ok" "$LAB_WORK/dl.$port/lab.txt" 2>/dev/null; then
			continue
		elif [ "$verdict" = quic_stall ] && grep -q -e ERR_HANDSHAKE_TIMEOUT -e ERR_IDLE_CLOSE "$LAB_WORK/err.$port"; then
			continue
		fi
		FLOW_ERRORS+=("$tr flow $port ($name on $net) should be $verdict: exit $rc, $(head -c 200 "$LAB_WORK/err.$port")")
	done <"$LAB_WORK/flows"
}

# The capture must hold exactly the truth's flows (UDP and TCP pairs).
lab_check_capture() {
	local d
	d=$(lab_capture_diff "${TRUTH_LINES[@]}")
	[ -z "$d" ] || FLOW_ERRORS+=("capture flows differ from truth: $d")
	# No datagram larger than the link's MTU: GSO stayed off.
	if tcpdump -nn -r "$LAB_WORK/cap.pcap" udp 2>/dev/null | awk '{print $NF}' | awk '$1 > 1472' | grep -q .; then
		FLOW_ERRORS+=("UDP datagrams larger than the MTU in the capture: segmentation offload was on")
	fi
}

lab_write_truth() {
	local out=$1 line
	{
		echo "# $LAB_NAME: real-stack QUIC lab capture made by tests/lab/quic.sh generate (regenerate: tests/lab/quic.sh generate pcaps)"
		echo "# capture point: router namespace, client-side interface (client side of the censor); UDP and TCP port 443"
		echo "# networks: net-a 198.18.1.0/24 (UDP/443 to quic-news black-holed, TCP/443 works), net-b 198.18.2.0/24 (quic-news's replies dropped, UDP and TCP), net-ctl 198.18.3.0/24 (control)"
		echo "# QUIC: ngtcp2 0.12 examples (gtlsserver/gtlsclient, QUIC v1); TCP: curl to socat OpenSSL listeners, TLS 1.3"
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
	LAB_WORK=$(mktemp -d /tmp/qlab.XXXXXX) || return 1
	chmod 755 "$LAB_WORK" # the clients run as their network's uid
	: >"$LAB_WORK/flows"
	lab_build_net || { lab_log "building the namespaces failed"; return 1; }
	lab_censor || { lab_log "installing the censor rules failed"; return 1; }
	lab_make_cert || { lab_log "making the lab certificate failed"; return 1; }
	lab_start_servers || return 1
	lab_start_capture 'udp port 443 or tcp port 443' || return 1
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
	cp "$LAB_WORK/cap.pcap" "$outdir/$LAB_NAME.pcap" && lab_write_truth "$outdir/$LAB_NAME.truth" || return 1
	lab_log "wrote $outdir/$LAB_NAME.pcap ($(wc -c <"$outdir/$LAB_NAME.pcap") bytes, ${#TRUTH_LINES[@]} flows)"
}

lab_main lab_generate lab_check_truth "$@"

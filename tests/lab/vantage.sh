#!/bin/bash
# vantage.sh - the same censored traffic captured at both ends: on the client's link and on the server's link.
#
# The lab of lab.sh (client, router, server namespaces, real curl clients and TLS servers), with a censor that
# lets every ClientHello through and acts only on what the server sends back:
#   net-a 198.18.1.0/24  reply drop: a connection whose ClientHello names news-site/humr-site is marked
#                        (CONNMARK); every later server packet of it is dropped.  The server ACKs the
#                        ClientHello and answers; the client sees nothing and resends the ClientHello.
#   net-b 198.18.2.0/24  RST toward the server: the first server packet of such a connection is refused with
#                        REJECT tcp-reset, which sends the server a RST in the client's name with the router's
#                        TTL (64; the client's own packets reach the server with 63); the server's later RSTs
#                        never reach the client either.
#   net-ctl              untouched.
# tcpdump runs in the client namespace (c0) and in the server namespace (s0).  The truth differs by side:
#   client side  every censored flow tls_stall, drop_direction unknown (from there both drops look the same)
#   server side  net-a tls_stall with drop_direction server_to_client (the server's ACK and answer are in view,
#                the client resends what was acknowledged); net-b tls_reset, RST from the client's side, injected
#   both         control flows ok, and every flow's vantage inferred (no --vantage): client at c0, server at s0
#
# Usage:
#   vantage.sh generate OUTDIR  write OUTDIR/lab-vantage-{client,server}.{pcap,truth} and lab-vantage-ca.pem
#   vantage.sh check BUILDDIR   generate into a temporary directory and check BUILDDIR/src/tamperscope on both
#                               captures: the truths, drop directions, vantages, and the per-network report
# Safety as in lab.sh: 198.18.0.0/15 only, namespaces of this run only, no default route; "SKIP: lab-vantage:
# why" where it cannot run (not root, no namespaces, no iptables string/connmark match).

# shellcheck disable=SC2317  # the labs' steps are called through lab_main (netns.sh) and the EXIT trap
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
VANTAGE_HERE=$(cd "$(dirname "$0")" && pwd)
LAB_SOURCED=1
# shellcheck source=tests/lab/lab.sh
. "$VANTAGE_HERE/lab.sh"
LAB_NAME=lab-vantage
LAB_TAG=lab-vantage
CAP_S_PID=""
declare -A SERVER_SIDE_VERDICT=()

# Censor rules of this lab (replacing lab.sh's lab_censor).
vantage_censor() {
	local name
	for name in news-site.example humr-site.example; do
		fwd -s 198.18.1.0/24 -p tcp --dport 443 -m string --algo bm --string "$name" \
			-j CONNMARK --set-mark 1 &&
			fwd -s 198.18.2.0/24 -p tcp --dport 443 -m string --algo bm --string "$name" \
				-j CONNMARK --set-mark 2 || return 1
	done
	# Server replies of marked connections.  A RST the server sends after its socket was reset is dropped on
	# net-b as well: the RST rule matches it by flags, as conntrack may have forgotten the mark by then.
	fwd -d 198.18.1.0/24 -p tcp --sport 443 -m connmark --mark 1 -j DROP &&
		fwd -d 198.18.2.0/24 -p tcp --sport 443 -m connmark --mark 2 -j REJECT --reject-with tcp-reset &&
		fwd -s 198.19.1.1 -d 198.18.2.0/24 -p tcp --sport 443 --tcp-flags RST RST -j DROP &&
		fwd -s 198.19.1.2 -d 198.18.2.0/24 -p tcp --sport 443 --tcp-flags RST RST -j DROP
}

vantage_preflight() {
	lab_preflight || return 1
	if ! nsx "$NS_R" iptables -A FORWARD -p tcp -m connmark --mark 1 -j CONNMARK --set-mark 2 \
		>/dev/null 2>&1; then
		LAB_SKIP_REASON="iptables connmark match or CONNMARK target unavailable"
		return 1
	fi
	nsx "$NS_R" iptables -F FORWARD >/dev/null 2>&1
}

# vflow NET NAME TLSVER CLIENT_SIDE SERVER_SIDE NOTE [bg]: one connection, with its verdict from each side.
vflow() {
	local port=$((NET_PORT0[$1] + NET_NEXT[$1]))
	SERVER_SIDE_VERDICT[$port]=$5
	flow "$1" "$2" "$3" "$4" "$6" "${7:-}"
}

vantage_scenarios() {
	local v
	batch_begin
	vflow net-a news-site.example 1.3 tls_stall tls_stall "server replies dropped" bg
	vflow net-a news-site.example 1.2 tls_stall tls_stall "server replies dropped" bg
	vflow net-a humr-site.example 1.3 tls_stall tls_stall "server replies dropped" bg
	vflow net-b humr-site.example 1.3 tls_stall tls_reset "RST toward the server, replies dropped" bg
	vflow net-b humr-site.example 1.2 tls_stall tls_reset "RST toward the server, replies dropped" bg
	vflow net-b news-site.example 1.3 tls_stall tls_reset "RST toward the server, replies dropped" bg
	batch_end
	for v in 1.3 1.2; do
		vflow net-a control-site.example "$v" ok ok "not censored on net-a"
		vflow net-b vpn-site.example "$v" ok ok "not censored on net-b"
		vflow net-ctl news-site.example "$v" ok ok "control network, no censorship"
		vflow net-ctl humr-site.example "$v" ok ok "control network, no censorship"
	done
	vflow net-ctl tls13only.example 1.2 tls_alert tls_alert "TLS1.3-only server sends protocol_version alert"
}

# vantage_truth SIDE OUT: the truth file of one side's capture.
vantage_truth() {
	local side=$1 out=$2 line client port verdict rest
	{
		echo "# $LAB_NAME-$side: real-stack lab capture made by tests/lab/vantage.sh generate (regenerate: tests/lab/vantage.sh generate pcaps)"
		if [ "$side" = client ]; then
			echo "# capture point: client namespace, its link to the router (client side of the censor); TTL client 64, server 63"
		else
			echo "# capture point: server namespace, its link to the router (server side of the censor); TTL server 64, client 63, RST injected by the router 64"
		fi
		echo "# censor: net-a drops the server's replies after a censored ClientHello; net-b refuses the server's first reply with a RST toward the server in the client's name"
		echo "# args: --ca-bundle @PCAPDIR@/$LAB_NAME-ca.pem"
		printf 'client\tserver\tsni\tverdict\tnetwork\tnote\n'
		for line in "${TRUTH_LINES[@]}"; do
			if [ "$side" = server ]; then
				client=$(printf '%s' "$line" | cut -f1)
				port=${client##*:}
				verdict=${SERVER_SIDE_VERDICT[$port]}
				rest=$(printf '%s' "$line" | cut -f5-)
				printf '%s\t%s\t%s\n' "$(printf '%s' "$line" | cut -f1-3)" "$verdict" "$rest"
			else
				printf '%s\n' "$line"
			fi
		done
	} >"$out"
}

vantage_generate() {
	local outdir=$1 e
	vantage_preflight || return 2
	mkdir -p "$outdir" || return 1
	LAB_WORK=$(mktemp -d /tmp/tslab-vantage.XXXXXX) || return 1
	: >"$LAB_WORK/flows"
	lab_build_net || { lab_log "building the namespaces failed"; return 1; }
	vantage_censor || { lab_log "installing the censor rules failed"; return 1; }
	lab_make_certs || { lab_log "making the lab certificates failed"; return 1; }
	lab_start_servers || return 1
	lab_tcpdump "$NS_C" c0 "$LAB_WORK/client.pcap" tcp || return 1
	CAP_PID=$LAB_TCPDUMP_PID
	lab_tcpdump "$NS_S" s0 "$LAB_WORK/server.pcap" tcp || return 1
	CAP_S_PID=$LAB_TCPDUMP_PID
	vantage_scenarios
	sleep 1
	kill -TERM "$CAP_S_PID" 2>/dev/null
	wait "$CAP_S_PID" 2>/dev/null
	CAP_S_PID=""
	lab_stop_capture
	lab_teardown
	lab_check_outcomes
	cp "$LAB_WORK/client.pcap" "$LAB_WORK/cap.pcap" && lab_check_capture
	cp "$LAB_WORK/server.pcap" "$LAB_WORK/cap.pcap" && lab_check_capture
	if [ "${#FLOW_ERRORS[@]}" -gt 0 ]; then
		for e in "${FLOW_ERRORS[@]}"; do
			lab_log "$e"
		done
		lab_log "not writing $outdir/$LAB_NAME-*: the lab did not behave as its truth says"
		return 1
	fi
	cp "$LAB_WORK/client.pcap" "$outdir/$LAB_NAME-client.pcap" &&
		cp "$LAB_WORK/server.pcap" "$outdir/$LAB_NAME-server.pcap" &&
		cp "$LAB_WORK/labca.pem" "$outdir/$LAB_NAME-ca.pem" &&
		vantage_truth client "$outdir/$LAB_NAME-client.truth" &&
		vantage_truth server "$outdir/$LAB_NAME-server.truth" || return 1
	# The truth files name their CA by the lab's name.
	lab_log "wrote $outdir/$LAB_NAME-{client,server}.pcap (${#TRUTH_LINES[@]} flows each)"
}

vpass() { echo "PASS: lab-vantage: $1"; }
vfail() { echo "FAIL: lab-vantage: $1"; VFAILS=$((VFAILS + 1)); }
vcheck() { if [ "$2" = 0 ]; then vpass "$1"; else vfail "$1"; fi; }

# What the truth files do not say: drop directions, RST origin, inferred vantages, and the report.
vantage_check_evidence() {
	local dir=$1 ts=$2 side ev n
	for side in client server; do
		ev="$dir/$side.events"
		"$ts" -r "$dir/$LAB_NAME-$side.pcap" --ca-bundle "$dir/$LAB_NAME-ca.pem" -q --events "$ev" 2>/dev/null
		n=$(jq -s '[.[] | select(.event_type == "flow")] | length' "$ev")
		[ "$n" -gt 0 ]
		vcheck "$side side: $n flow events" $?
		# A host of the lab answering a millisecond late (the lab's round trip is well under one) makes the
		# round-trip split point at the wrong end; the TTLs then disagree and the flow is unknown by conflict.
		jq -se --arg s "$side" '[.[] | select(.event_type == "flow") | .evidence] |
			all(.vantage == $s or (.vantage == "unknown" and .vantage_by == "conflict")) and
			any(.vantage == $s)' "$ev" >/dev/null
		vcheck "$side side: every flow's vantage inferred as $side ($(jq -s '[.[] | select(.event_type == "flow" and
			.evidence.vantage_by == "conflict")] | length' "$ev") unknown by a late host's conflict)" $?
	done
	jq -se '[.[] | select(.verdict == "tls_stall") | .evidence.drop_direction] | length == 6 and all(. == "unknown")' \
		"$dir/client.events" >/dev/null
	vcheck "client side: the 6 stalls have drop_direction unknown" $?
	jq -se '[.[] | select(.verdict == "tls_stall") | .evidence.drop_direction] | length == 3 and all(. == "server_to_client")' \
		"$dir/server.events" >/dev/null
	vcheck "server side: the 3 stalls have drop_direction server_to_client" $?
	jq -se '[.[] | select(.verdict == "tls_stall") | .evidence.answer_acked] | all(. == false)' \
		"$dir/server.events" >/dev/null
	vcheck "server side: no stalled flow's answer was acknowledged" $?
	jq -se '[.[] | select(.verdict == "tls_reset") | .evidence] | length == 3 and
		all(.rst_from == "client" and .injected == true and (.injected_reasons | index("ttl")) != null)' \
		"$dir/server.events" >/dev/null
	vcheck "server side: the 3 resets came in the client's name, injected (ttl)" $?
	jq -se '[.[] | select(.verdict == "ok") | .evidence.answer_acked] | length == 8 and all(. == true)' \
		"$dir/server.events" >/dev/null
	vcheck "server side: every ok flow's answer was acknowledged" $?
	# The same networks and flow counts from either side; client networks stay the src.
	if ! perl "$LAB_ROOT/tools/mktest-mmdb.pl" --out "$dir/asn.mmdb" "$LAB_ROOT/tests/golden/asn.csv" \
		2>/dev/null; then
		vfail "cannot write the test ASN database"
		return
	fi
	for side in client server; do
		"$ts" -r "$dir/$LAB_NAME-$side.pcap" --ca-bundle "$dir/$LAB_NAME-ca.pem" --asn-db "$dir/asn.mmdb" \
			-q --report-json "$dir/$side.report" 2>/dev/null
		jq -c '[.by_network[] | {asn, flows, anomalies}] | sort_by(.asn)' "$dir/$side.report" \
			>"$dir/$side.nets" 2>/dev/null
	done
	cmp -s "$dir/client.nets" "$dir/server.nets" &&
		jq -e 'length == 3 and (map(select(.asn == 9198 or .asn == 21299) | .anomalies) == [3, 3])' \
			"$dir/server.nets" >/dev/null
	vcheck "report: the same networks, flows and interference counts from either side ($(tr -d '\n' <"$dir/server.nets"))" $?
}

# Both captures' truths, then what only the two sides together show.
vantage_check() {
	local dir=$1 ts=$2 side
	VFAILS=0
	for side in client server; do
		bash "$LAB_ROOT/tests/golden/check-truth.sh" "$dir/$LAB_NAME-$side.pcap" "$dir/$LAB_NAME-$side.truth" "$ts" ||
			VFAILS=$((VFAILS + 1))
	done
	vantage_check_evidence "$dir" "$ts"
	[ "$VFAILS" = 0 ]
}

lab_main vantage_generate vantage_check "$@"

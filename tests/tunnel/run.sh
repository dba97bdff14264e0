#!/bin/bash
# run.sh - the tunnel tier: a remote mirror sees what a local one sees.
#
# Every committed capture (pcaps/*.truth names them, with their arguments)
# is wrapped by tests/tunnel/wrap.py in each encapsulation a remote mirror
# or an access network uses - VXLAN, GENEVE, GRE (TEB), ERSPAN I/II/III, IP
# in IPv4 and IPv6, GTP-U, CAPWAP 802.11 - plus outer IPv4 fragmentation
# (ERSPAN of jumbo frames) and nesting (VXLAN inside GRE).  For each wrapped
# capture, compared with the bare one:
#   - the flows and their verdicts and SNIs, flow for flow (and every event
#     byte for byte);
#   - the tunnel counter of the end summary equals the frames wrapped;
#   - no flow of the tunnel endpoints (198.19.254.1/2, 2001:2::1/2) appears;
#   - no decode errors;
# and, once, that a replay through the live path counts the tunnel in the
# metrics file and the stats events.
# Prints PASS/FAIL lines; SKIP when python3 or jq is missing.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
export LC_ALL=C
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
WRAP="$srcdir/tests/tunnel/wrap.py"

fail() { echo "FAIL: tunnel: $1"; }
pass() { echo "PASS: tunnel: $1"; }
for tool in python3 jq; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: tunnel: $tool not installed"
		exit 0
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The flows of an events file: key, verdict and SNI, one line each, sorted.
flows() {
	jq -r 'select(.event_type == "flow") |
		[.proto, .src_ip, .src_port, .dest_ip, .dest_port, .verdict, (.sni // "-")] |
		map(tostring) | join(" ")' "$1" | sort
}

# Flows with a tunnel endpoint as either address.
outer_flows() {
	jq -r 'select(.event_type == "flow") |
		select([.src_ip, .dest_ip] | any(. == "198.19.254.1" or . == "198.19.254.2" or
						 . == "2001:2::1" or . == "2001:2::2")) |
		"\(.src_ip):\(.src_port) -> \(.dest_ip):\(.dest_port)"' "$1"
}

# wrap NAME PCAP OUT ENCAP[+ENCAP...] [wrap.py options]: wrap once per
# encapsulation listed, innermost first; prints the frames wrapped.
wrap() {
	local in=$2 out=$3 encaps=$4 i=0 e n=
	shift 4
	for e in ${encaps//+/ }; do
		i=$((i + 1))
		python3 "$WRAP" "$e" "$in" "$out.$i" "$@" 2>"$out.log" || return 1
		n=$(sed -n 's/^wrap.py: [a-z0-9]*: \([0-9]*\) frames wrapped.*/\1/p' "$out.log")
		in=$out.$i
	done
	mv "$in" "$out"
	echo "$n"
}

# check NAME BARE_EVENTS ARGS ENCAPS LABEL [wrap.py options]
check() {
	local name=$1 pcap=$2 args=$3 encaps=$4 label=$5
	shift 5
	local w="$tmp/$name.$label"
	local n
	if ! n=$(wrap "$name" "$pcap" "$w.pcap" "$encaps" "$@") || [ -z "$n" ]; then
		fail "$name $label: wrap.py failed: $(head -c 300 "$w.pcap.log")"
		return
	fi
	# shellcheck disable=SC2086
	if ! "$T" -r "$w.pcap" $args --events "$w.events" >/dev/null 2>"$w.err"; then
		fail "$name $label: tamperscope failed: $(head -c 300 "$w.err")"
		return
	fi
	flows "$w.events" >"$w.flows"
	local nf
	nf=$(wc -l <"$tmp/$name.flows")
	if cmp -s "$tmp/$name.flows" "$w.flows"; then
		pass "$name $label: $nf flows, the same verdicts and SNIs flow for flow"
	else
		fail "$name $label: flows differ from the bare capture:"
		diff "$tmp/$name.flows" "$w.flows" | head -n 10 | sed 's/^/    /'
	fi
	if cmp -s "$tmp/$name.events" "$w.events"; then
		pass "$name $label: every event identical to the bare capture's"
	else
		fail "$name $label: events differ from the bare capture's:"
		diff "$tmp/$name.events" "$w.events" | head -n 6 | cut -c1-300 | sed 's/^/    /'
	fi
	local e got bad=0
	for e in ${encaps//+/ }; do
		[ "$e" = ip6ip ] && e=ipip
		got=$(sed -n "s/^tamperscope:   tunnel $e  *\([0-9]*\)$/\1/p" "$w.err")
		if [ "${got:-0}" != "$n" ]; then
			fail "$name $label: tunnel $e counted ${got:-0} frames, $n were wrapped"
			bad=1
		fi
	done
	[ $bad = 0 ] && pass "$name $label: tunnel counter (${encaps//+/, }) = $n frames wrapped"
	local outer
	outer=$(outer_flows "$w.events")
	if [ -z "$outer" ]; then
		pass "$name $label: no flow of the tunnel endpoints"
	else
		fail "$name $label: the tunnel endpoints appear as flows: $(echo "$outer" | head -n 3 | tr '\n' ' ')"
	fi
	if grep -q ' 0 decode errors' "$w.err"; then
		pass "$name $label: no decode errors"
	else
		fail "$name $label: $(grep 'decode errors' "$w.err")"
	fi
}

# The live path's outputs count tunnels too: the metrics file and the
# stats events of a replay at full speed.
check_live_counters() {
	local name=$1 pcap=$2 w="$tmp/$1.live"
	local n
	if ! n=$(wrap "$name" "$pcap" "$w.pcap" vxlan) || [ -z "$n" ]; then
		fail "$name live: wrap.py failed"
		return
	fi
	if ! timeout 120 "$T" --replay "$w.pcap" --speed max --no-asn-db -q --events "$w.events" \
		--stats-interval 5s --metrics-file "$w.prom" >/dev/null 2>"$w.err"; then
		fail "$name live: replay failed: $(head -c 300 "$w.err")"
		return
	fi
	if grep -q "^tamperscope_tunnel_frames_total{tunnel=\"vxlan\"} $n\$" "$w.prom" &&
		grep -q '^tamperscope_tunnel_frames_total{tunnel="gre"} 0$' "$w.prom"; then
		pass "$name live: metrics file: tamperscope_tunnel_frames_total{tunnel=\"vxlan\"} $n"
	else
		fail "$name live: metrics file lacks tamperscope_tunnel_frames_total{tunnel=\"vxlan\"} $n"
	fi
	local sum
	sum=$(jq -s '[.[] | select(.event_type == "stats") | .stats.tunnels.vxlan // 0] | add // 0' "$w.events")
	if [ "$sum" = "$n" ]; then
		pass "$name live: stats events: tunnels.vxlan adds up to $n over the intervals"
	else
		fail "$name live: stats events: tunnels.vxlan adds up to $sum, $n frames were wrapped"
	fi
}

found=0
live_done=0
for truth in "$srcdir"/pcaps/*.truth; do
	[ -f "$truth" ] || continue
	pcap=${truth%.truth}.pcap
	[ -f "$pcap" ] || continue
	found=1
	name=$(basename "${truth%.truth}")
	pcapdir=$(cd "$(dirname "$pcap")" && pwd)
	args=$(sed -n 's/^# args: //p' "$truth" | sed "s|@PCAPDIR@|$pcapdir|g")
	case " $args " in *" --asn-db "*) ;; *) args="$args --no-asn-db" ;; esac
	# shellcheck disable=SC2086
	if ! "$T" -r "$pcap" $args --events "$tmp/$name.events" >/dev/null 2>"$tmp/$name.err"; then
		fail "$name: tamperscope failed on the bare capture: $(head -c 300 "$tmp/$name.err")"
		continue
	fi
	flows "$tmp/$name.events" >"$tmp/$name.flows"
	for encap in vxlan geneve gre erspan1 erspan2 erspan3 ipip ip6ip gtpu capwap; do
		check "$name" "$pcap" "$args" "$encap" "$encap"
	done
	# ERSPAN copies of jumbo frames arrive as outer IPv4 fragments.
	check "$name" "$pcap" "$args" erspan2 "erspan2-fragmented" --mtu 576
	check "$name" "$pcap" "$args" vxlan+gre "vxlan-in-gre"
	if [ $live_done = 0 ]; then
		check_live_counters "$name" "$pcap"
		live_done=1
	fi
done
[ $found = 1 ] || fail "no pcaps/*.truth with a .pcap capture"

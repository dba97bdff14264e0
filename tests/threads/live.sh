#!/bin/bash
# tests/threads/live.sh - live capture with worker threads places every connection in one worker.
#
# The lab capture is sent by tcpreplay at its recorded pace into one end of a veth pair in a namespace this
# script creates; tamperscope -i reads the other end with --threads 2 (one fanout socket per worker).  Sent
# bare, and wrapped as a remote mirror delivers it (tests/tunnel/wrap.py: VXLAN, whose outer source port
# changes from packet to packet, GENEVE, GRE, ERSPAN II, IP in IPv6), the flows, verdicts and SNIs must be
# those of reading the bare capture from the file: a connection split over two workers, or reordered, would
# give two flows or other verdicts.  Both workers' sockets must have received packets.  The capture's side
# of the path is given (--vantage client): replayed timing must not decide the rules that apply.
#
# Needs root, network namespaces, tcpreplay, jq, python3; prints one SKIP line and stops when one is missing.
# Safety: nothing is routed; the frames carry the lab's 198.18.0.0/15 addresses and stay on the veth pair.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
export LC_ALL=C
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
T=$(cd "$(dirname "$T")" && pwd)/$(basename "$T")
pass() { echo "PASS: threads-live: $1"; }
fail() { echo "FAIL: threads-live: $1"; }

skip_reason=
[ "$(id -u)" = 0 ] || skip_reason="not root"
for tool in ip tcpreplay jq python3; do
	[ -n "$skip_reason" ] || command -v $tool >/dev/null 2>&1 || skip_reason="$tool not installed"
done
ns=tsthr$$
if [ -z "$skip_reason" ] && ! ip netns add "$ns" 2>/dev/null; then
	skip_reason="cannot create a network namespace"
fi
if [ -n "$skip_reason" ]; then
	echo "SKIP: threads-live: $skip_reason"
	exit 0
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

pcap=$srcdir/pcaps/lab-interference.pcap
args=(--ca-bundle "$srcdir/pcaps/lab-interference-ca.pem" --no-asn-db --vantage client -q)
flows() {
	jq -r 'select(.event_type == "flow") |
		[.proto, .src_ip, .src_port, .dest_ip, .dest_port, .verdict, (.sni // "-")] | map(tostring) | join(" ")' \
		"$1" | sort
}
"$T" -r "$pcap" "${args[@]}" --events "$tmp/file.ev" 2>/dev/null
flows "$tmp/file.ev" >"$tmp/file.flows"

# one ENCAP: a veth pair of its own, tamperscope on one end, the replay into the other
one() {
	local enc=$1 i=$2 w=$tmp/$1 pid k
	if [ "$enc" = bare ]; then
		cp "$pcap" "$w.pcap"
	elif ! python3 "$srcdir/tests/tunnel/wrap.py" "$enc" "$pcap" "$w.pcap" 2>"$w.wrap"; then
		echo "wrap.py $enc failed" >"$w.fail"
		return
	fi
	ip -n "$ns" link add "a$i" type veth peer name "b$i" &&
		ip -n "$ns" link set "a$i" mtu 9000 up && ip -n "$ns" link set "b$i" mtu 9000 up || {
		echo "cannot make veth pair $i" >"$w.fail"
		return
	}
	ip netns exec "$ns" "$T" -i "b$i" --threads 2 "${args[@]}" --events "$w.ev" 2>"$w.err" &
	pid=$!
	# the workers are running: main thread and two more
	for k in $(seq 100); do
		[ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -ge 3 ] && break
		sleep 0.1
	done
	sleep 0.3
	ip netns exec "$ns" tcpreplay -q -i "a$i" "$w.pcap" >"$w.replay" 2>&1 || echo "tcpreplay failed" >"$w.fail"
	sleep 1
	kill -TERM "$pid"
	wait "$pid" || echo "tamperscope exited $?: $(head -c 200 "$w.err")" >"$w.fail"
}

encs=(bare vxlan geneve gre erspan2 ip6ip)
i=0
for enc in "${encs[@]}"; do
	one "$enc" "$i" &
	pids+=($!)
	i=$((i + 1))
done
wait "${pids[@]}"
pids=()

nf=$(wc -l <"$tmp/file.flows")
for enc in "${encs[@]}"; do
	w=$tmp/$enc
	if [ -f "$w.fail" ]; then
		fail "$enc: $(cat "$w.fail")"
		continue
	fi
	flows "$w.ev" >"$w.flows"
	if [ "$nf" -gt 0 ] && cmp -s "$tmp/file.flows" "$w.flows"; then
		pass "$enc, live with 2 workers: the $nf flows, verdicts and SNIs of the file"
	else
		fail "$enc, live with 2 workers: flows differ from the file's:"
		diff "$tmp/file.flows" "$w.flows" | head -n 8 | sed 's/^/    /'
	fi
	r0=$(sed -n 's/^tamperscope: kernel: worker 0: \([0-9]*\) received.*/\1/p' "$w.err")
	r1=$(sed -n 's/^tamperscope: kernel: worker 1: \([0-9]*\) received.*/\1/p' "$w.err")
	if [ "${r0:-0}" -gt 0 ] && [ "${r1:-0}" -gt 0 ]; then
		pass "$enc: both workers read packets ($r0 and $r1)"
	else
		fail "$enc: the workers read ${r0:-?} and ${r1:-?} packets"
	fi
done

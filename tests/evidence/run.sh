#!/bin/bash
# tests/evidence/run.sh - evidence capture (-w): on the committed lab
# captures and on crafted ones (mkcases.py), the evidence file holds exactly
# the interfered flows, reading it back gives the same verdicts, the
# manifest verifies with sha256sum -c, --anonymize-clients leaves no client
# address and no bad checksum, and bad output (unwritable path, disk full,
# a stop signal) still leaves a valid capture and says so.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
T=$(cd "$(dirname "$T")" && pwd)/$(basename "$T")
srcdir=$(cd "$srcdir" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: evidence: $1"; }
fail() { echo "FAIL: evidence: $1"; }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1"; fi; }
PCAPS=$srcdir/pcaps
INTERF="tls_stall tls_reset syn_timeout syn_reset tls_mitm"

# flows FILE: "client port server port verdict" of every flow event, sorted
flows() { jq -r 'select(.event_type == "flow") | [.src_ip, .src_port, .dest_ip, .dest_port, .verdict] | @tsv' "$1" | sort; }
interfered() { flows "$1" | awk -v v=" $INTERF " 'index(v, " " $5 " ")'; }
# A capture every reader accepts: tshark reads it to the end without complaint.
valid_capture() { tshark -r "$1" -c 1000000 >/dev/null 2>"$tmp/tshark.err" && ! grep -qi 'cut short\|appears to be damaged\|error' "$tmp/tshark.err"; }

# ---- the committed lab captures ------------------------------------------------
lab() { # name args...: -w on the capture, read back, compare, manifest
	name=$1
	shift
	d=$tmp/$name
	mkdir -p "$d"
	(cd "$d" && "$T" -r "$PCAPS/$name.pcap" "$@" -w ev.pcapng --events all.json -q 2>err) ||
		{ fail "$name: -w run failed: $(head -c 200 "$d/err")"; return; }
	interfered "$d/all.json" >"$d/want"
	n=$(wc -l <"$d/want")
	"$T" -r "$d/ev.pcapng" "$@" --events "$d/back.json" -q 2>"$d/back.err"
	flows "$d/back.json" >"$d/got"
	[ "$n" -gt 0 ] && cmp -s "$d/want" "$d/got"
	check "$name: the evidence holds exactly the $n interfered flows, read back with the same verdicts" $?
	(cd "$d" && sha256sum --quiet -c ev.pcapng.sha256 >/dev/null 2>&1)
	check "$name: sha256sum -c verifies the manifest ($(grep -c '^[0-9a-f]\{64\}  ' "$d/ev.pcapng.sha256") digests)" $?
	grep -q "^[0-9a-f]\{64\}  $PCAPS/$name.pcap\$" "$d/ev.pcapng.sha256" &&
		grep -q '^# command: .* -w ev.pcapng' "$d/ev.pcapng.sha256" &&
		grep -q '^# trust store' "$d/ev.pcapng.sha256" && grep -q '^# tamperscope [0-9]' "$d/ev.pcapng.sha256"
	check "$name: the manifest names the input, the command line, the trust store and the version" $?
	# every packet carries its flow's id and verdict; per flow as many as the event says
	tshark -r "$d/ev.pcapng" -T fields -e frame.comment 2>/dev/null |
		sed -n 's/^tamperscope flow_id \([0-9]*\): \([a-z_]*\),.*/\1 \2/p' | sort | uniq -c |
		awk '{print $2, $3, $1}' | sort >"$d/comments"
	jq -r 'select(.evidence.pcap_packets != null) | "\(.flow_id) \(.verdict) \(.evidence.pcap_packets)"' \
		"$d/all.json" | sort >"$d/counted"
	[ -s "$d/counted" ] && cmp -s "$d/comments" "$d/counted"
	check "$name: each packet's comment names flow_id and verdict; counts equal evidence.pcap_packets" $?
	tshark -r "$d/ev.pcapng" -T fields -e frame.time_epoch 2>/dev/null | sort -c -g 2>/dev/null
	check "$name: packets in capture order" $?
	# anonymised: no client address left, checksums still right, verdicts the same
	(cd "$d" && "$T" -r "$PCAPS/$name.pcap" "$@" --anonymize-clients -w anon.pcapng -q 2>/dev/null)
	tshark -r "$d/anon.pcapng" -T fields -e ip.src -e ip.dst 2>/dev/null | tr '\t' '\n' |
		grep -E '^198\.18\.[0-9]+\.[1-9][0-9]*$' >"$d/leaked"
	bad=$(tshark -r "$d/anon.pcapng" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
		-T fields -e ip.checksum.status -e tcp.checksum.status 2>/dev/null | grep -vc '^1	1$')
	"$T" -r "$d/anon.pcapng" "$@" --events "$d/anon.json" -q 2>/dev/null
	[ ! -s "$d/leaked" ] && [ "$bad" = 0 ] &&
		[ "$(flows "$d/anon.json" | cut -f2-5)" = "$(cut -f2-5 "$d/want")" ]
	check "$name: --anonymize-clients: no client address, checksums valid, same verdicts" $?
}
if ! command -v tshark >/dev/null 2>&1; then
	echo "SKIP: evidence: tshark is not installed (.ci/packages)"
	exit 0
fi
lab lab-interference --ca-bundle "$PCAPS/lab-interference-ca.pem" --no-asn-db
lab lab-mitm --ca-bundle "$PCAPS/lab-mitm-ca.pem" --interception-cas "$PCAPS/lab-mitm-cas.tsv" \
	--asn-db "$PCAPS/lab-mitm-asn.mmdb"

# ---- crafted cases ------------------------------------------------------------
c=$tmp/craft
mkdir -p "$c"
if ! python3 "$srcdir/tests/evidence/mkcases.py" "$c" 2>"$c/mk.err"; then
	fail "mkcases.py failed: $(head -c 300 "$c/mk.err")"
	exit 0
fi
craft() { # name extra-args: events of the run and of the read-back
	f=$1
	shift
	"$T" -r "$c/$f.pcap" --no-asn-db -q "$@" -w "$c/$f.pcapng" --events "$c/$f.json" 2>"$c/$f.err"
	"$T" -r "$c/$f.pcapng" --no-asn-db -q --events "$c/$f.back.json" 2>/dev/null
	interfered "$c/$f.json" >"$c/$f.want"
	flows "$c/$f.back.json" >"$c/$f.got"
	[ -s "$c/$f.want" ] && cmp -s "$c/$f.want" "$c/$f.got"
}
craft clock
check "a stall and a SYN timeout measured to the capture's clock read back the same (clock mark)" $?
marks=$(tshark -r "$c/clock.pcapng" -Y 'frame.cap_len == 0' 2>/dev/null | wc -l)
[ "$marks" -ge 1 ] && grep -q 'clock marks' "$c/clock.err"
check "the clock mark is a packet without bytes ($marks)" $?
craft interleave
check "a flow decided after a later one: both read back the same" $?
tshark -r "$c/interleave.pcapng" -T fields -e frame.time_epoch 2>/dev/null | sort -c -g 2>/dev/null
check "flows decided out of order are written in capture order" $?
craft capped --pcap-flow-packets 8
[ "$(jq -r 'select(.verdict == "tls_stall") | "\(.evidence.pcap_packets) \(.evidence.pcap_truncated)"' "$c/capped.json")" = "8 true" ] &&
	grep -q '37 over the per-flow cap' "$c/capped.err"
check "per-flow cap: 8 packets kept, pcap_truncated, the cap's counter; still a stall read back" $?
craft ipv6 --anonymize-clients
tshark -r "$c/ipv6.pcapng" -T fields -e ipv6.src 2>/dev/null | grep -q '^2001:db8:7::$' &&
	! tshark -r "$c/ipv6.pcapng" -T fields -e ipv6.src -e ipv6.dst 2>/dev/null | grep -q '2001:db8:7:1::10' &&
	[ "$(tshark -r "$c/ipv6.pcapng" -o tcp.check_checksum:TRUE -T fields -e tcp.checksum.status 2>/dev/null | sort -u)" = 1 ]
check "IPv6: the client cut to /48, TCP checksums valid" $?
craft frag
tshark -r "$c/frag.pcapng" -T fields -e frame.comment 2>/dev/null | grep -q 'rebuilt from its fragments'
check "a ClientHello in IPv4 fragments: kept as the rebuilt datagram, read back as tls_reset" $?

# ---- classic pcap ----------------------------------------------------------------
"$T" -r "$PCAPS/lab-interference.pcap" --ca-bundle "$PCAPS/lab-interference-ca.pem" --no-asn-db -q \
	--pcap-format pcap -w "$tmp/ev.pcap" 2>/dev/null
[ "$(od -An -tx1 -N4 "$tmp/ev.pcap" | tr -d ' ')" = d4c3b2a1 ] &&
	[ "$(wc -l <"$tmp/ev.pcap.comments")" = "$(tshark -r "$tmp/ev.pcap" 2>/dev/null | wc -l)" ] &&
	(cd "$tmp" && sha256sum --quiet -c ev.pcap.sha256 >/dev/null 2>&1) &&
	grep -q ' ev.pcap.comments$' "$tmp/ev.pcap.sha256"
check "--pcap-format pcap: classic file, one comment line per packet in FILE.comments, in the manifest" $?

# ---- bad output ------------------------------------------------------------------
"$T" -r "$PCAPS/lab-interference.pcap" -w "$tmp/no/such/dir/ev.pcapng" --events "$tmp/x.json" -q \
	>"$tmp/o" 2>"$tmp/e"
rc=$?
[ $rc != 0 ] && [ "$(grep -c . "$tmp/e")" = 1 ] && grep -q '^tamperscope: cannot write evidence: .*No such file' "$tmp/e" &&
	[ ! -s "$tmp/x.json" ]
check "an unwritable -w path: one-line error before any packet is read" $?
"$T" -r "$PCAPS/lab-interference.pcap" --pcap-format pcapx -w "$tmp/x" >"$tmp/o" 2>"$tmp/e"
[ $? = 2 ] && [ "$(grep -c . "$tmp/e")" = 1 ]
check "a bad --pcap-format: usage error" $?

# Disk full: a 16 KiB file system in a private mount namespace.
if unshare -m true 2>/dev/null; then
	mkdir -p "$tmp/full"
	unshare -m sh -c "mount -t tmpfs -o size=16k tmpfs '$tmp/full' 2>/dev/null || exit 77
		'$T' -r '$PCAPS/lab-interference.pcap' --no-asn-db -q -w '$tmp/full/ev.pcapng' 2>'$tmp/full.err'
		echo \$? >'$tmp/full.rc'; cp '$tmp/full/ev.pcapng' '$tmp/full.pcapng'" 2>/dev/null
	rc=$(cat "$tmp/full.rc" 2>/dev/null)
	if [ -z "$rc" ]; then
		echo "SKIP: evidence: disk full: cannot mount a small tmpfs here"
	else
		[ "$rc" = 1 ] && grep -q 'No space left on device: the evidence was cut after' "$tmp/full.err" &&
			valid_capture "$tmp/full.pcapng" && "$T" -r "$tmp/full.pcapng" --no-asn-db -q 2>/dev/null
		check "disk full: exit 1, says so, the file is a valid shorter pcapng" $?
	fi
else
	echo "SKIP: evidence: disk full: no mount namespaces here"
fi

# A stop signal during a paced replay: what was decided is written, validly.
"$T" --replay "$PCAPS/lab-interference.pcap" --speed 4 --no-asn-db -q -w "$tmp/stop.pcapng" \
	--stats-interval 0 2>"$tmp/stop.err" &
pid=$!
sleep 3
kill -INT $pid
wait $pid
rc=$?
[ $rc = 0 ] && grep -q 'the run was stopped' "$tmp/stop.err" && valid_capture "$tmp/stop.pcapng" &&
	[ "$(tshark -r "$tmp/stop.pcapng" 2>/dev/null | wc -l)" -gt 0 ]
check "SIGINT during a replay: a valid shorter pcapng, and it says so" $?

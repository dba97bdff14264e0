#!/bin/bash
# tests/live/run.sh - live path without a network: replay pacing and timers,
# signals (SIGTERM flush, SIGHUP rotation), the metrics file, and -Z.
# Prints PASS:/FAIL:/SKIP: lines.
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
LAB="$srcdir/pcaps/lab-interference.pcap"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; if [ -n "${bg:-}" ]; then kill "$bg" 2>/dev/null; fi' EXIT

pass() { echo "PASS: live: $1"; }
fail() { echo "FAIL: live: $1"; }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1"; fi; }
flows() { grep -c '"event_type":"flow"' "$1" 2>/dev/null || true; }
verdicts() { # "client server verdict" per flow, sorted
	jq -r 'select(.event_type=="flow") | "\(.src_ip):\(.src_port) \(.dest_ip):\(.dest_port) \(.verdict)"' "$@" | sort
}

if [ ! -f "$LAB" ]; then
	fail "pcaps/lab-interference.pcap missing"
	exit 0
fi

# --- replay at 20x gives the verdicts of offline analysis -------------------
"$T" -r "$LAB" --events "$tmp/offline.json" -q 2>/dev/null
start=$(date +%s.%N)
"$T" --replay "$LAB" --speed 20 --stats-interval 10s --events "$tmp/replay.json" \
	--metrics-file "$tmp/metrics.prom" -q 2>"$tmp/replay.err"
rc=$?
end=$(date +%s.%N)
[ $rc = 0 ] && [ -s "$tmp/replay.json" ] && diff <(verdicts "$tmp/offline.json") <(verdicts "$tmp/replay.json") >"$tmp/diff"
check "--replay --speed 20 gives the same verdicts as -r ($(flows "$tmp/replay.json") flows)" $?
[ -s "$tmp/diff" ] && sed 's/^/    /' "$tmp/diff" | head -20

# pacing: the capture spans S seconds; at 20x the replay takes about S/20
span=$(jq -rs '[.[] | select(.event_type=="flow") | .flow.start, .flow.end] | sort | [.[0], .[-1]] | @tsv' "$tmp/offline.json" |
	awk -F'\t' '{ gsub(/[-T:+]/, " ", $1); gsub(/[-T:+]/, " ", $2);
		split($1, a, " "); split($2, b, " ");
		print (b[4]*3600 + b[5]*60 + b[6]) - (a[4]*3600 + a[5]*60 + a[6]) }')
took=$(echo "$end - $start" | bc)
echo "$span $took" | awk '{ exit !($2 >= $1 / 20 * 0.8 && $2 <= $1 / 20 + 5) }'
check "replay paced at 20x (trace ${span}s, took ${took}s)" $?

# stats events every 10 s of trace time
nstats=$(grep -c '"event_type":"stats"' "$tmp/replay.json")
[ "$nstats" -ge 2 ]; check "replay writes periodic stats events ($nstats)" $?
# (jq 1.6's -e looks only at the last input: slurp and test all at once)
jq -s -e '[.[] | select(.event_type=="stats")] | length > 0 and all(.stats.packets >= 0 and .stats.flows.active >= 0 and (.stats.verdicts|type=="object") and (.stats.top_blocked|type=="array"))' \
	"$tmp/replay.json" >/dev/null
check "stats events carry packets, flows, verdicts and top_blocked" $?
jq -s -e '[.[] | select(.event_type=="stats") | .stats.top_blocked[] | select(.name=="news-site.example")] | length > 0' "$tmp/replay.json" >/dev/null
check "top_blocked names a stalled site" $?

# early verdicts: in replay a stall is reported at its deadline, still open
jq -s -e '[.[] | select(.event_type=="flow" and .verdict=="tls_stall" and .flow.reason=="open")] | length > 0' "$tmp/replay.json" >/dev/null
check "replay reports a stall at its deadline (flow still open)" $?

# --- the metrics file parses as Prometheus text format -----------------------
awk '
	/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* / { if ($2 == "TYPE" && $4 !~ /^(counter|gauge|histogram|summary|untyped)$/) bad++; next }
	/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$/ { samples++; next }
	{ bad++; print "bad line: " $0 > "/dev/stderr" }
	END { exit !(bad == 0 && samples > 10) }' "$tmp/metrics.prom"
check "metrics file is valid Prometheus text format" $?
grep -q '^tamperscope_flows_total{verdict="tls_stall"} [1-9]' "$tmp/metrics.prom"
check "metrics count stalls" $?
ls "$tmp"/metrics.prom.tmp.* >/dev/null 2>&1 && fail "metrics temporary file left behind" || pass "metrics written atomically (no temporary left)"

# --- SIGTERM: every flow gets its event ---------------------------------------
"$T" --replay "$LAB" --speed 4 --events "$tmp/term.json" -q 2>"$tmp/term.err" &
bg=$!
sleep 6
kill -TERM $bg
wait $bg; rc=$?
bg=
created=$(sed -n 's/.*TCP\/UDP decoded), \([0-9]*\) flows.*/\1/p' "$tmp/term.err")
n=$(flows "$tmp/term.json")
[ $rc = 0 ] && [ -n "$created" ] && [ "$n" = "$created" ] && [ "$n" -gt 0 ]
check "SIGTERM finalises every flow: $n events for $created flows, exit $rc" $?
grep -q '"reason":"shutdown"' "$tmp/term.json"; check "flows open at SIGTERM end with reason shutdown" $?

# --- SIGHUP: the events file is reopened (logrotate) --------------------------
"$T" --replay "$LAB" --speed 4 --events "$tmp/hup.json" -q 2>"$tmp/hup.err" &
bg=$!
sleep 5
mv "$tmp/hup.json" "$tmp/hup.json.1"
kill -HUP $bg
sleep 4
kill -TERM $bg
wait $bg; rc=$?
bg=
created=$(sed -n 's/.*TCP\/UDP decoded), \([0-9]*\) flows.*/\1/p' "$tmp/hup.err")
n1=$(flows "$tmp/hup.json.1"); n2=$(flows "$tmp/hup.json")
[ $rc = 0 ] && [ -f "$tmp/hup.json" ] && [ "$n2" -gt 0 ] && [ $((n1 + n2)) = "$created" ]
check "SIGHUP reopens the events file ($n1 before, $n2 after, $created flows)" $?

# --- memory stays flat: the flow cap holds, evictions are counted -------------
if ! command -v python3 >/dev/null || [ ! -x /usr/bin/time ]; then
	fail "memory test needs python3 and GNU time (declared dependencies)"
elif ldd "$T" 2>/dev/null | grep -q libasan; then
	echo "SKIP: live: memory flatness: peak RSS means nothing under AddressSanitizer (its quarantine keeps freed memory)"
else
	python3 "$srcdir/bench/mktrace.py" --packets 60000 --seed 1 -o "$tmp/m1.pcap" "$LAB" 2>/dev/null
	python3 "$srcdir/bench/mktrace.py" --packets 240000 --seed 1 -o "$tmp/m4.pcap" "$LAB" 2>/dev/null
	/usr/bin/time -f %M -o "$tmp/rss1" "$T" -r "$tmp/m1.pcap" --max-flows 300 --events "$tmp/m1.json" -q 2>"$tmp/m1.err"
	/usr/bin/time -f %M -o "$tmp/rss4" "$T" -r "$tmp/m4.pcap" --max-flows 300 --events "$tmp/m4.json" -q 2>"$tmp/m4.err"
	r1=$(tail -1 "$tmp/rss1"); r4=$(tail -1 "$tmp/rss4")
	ev4=$(sed -n 's/.* flows, \([0-9]*\) evicted.*/\1/p' "$tmp/m4.err")
	fl4=$(sed -n 's/.*decoded), \([0-9]*\) flows.*/\1/p' "$tmp/m4.err")
	[ "${ev4:-0}" -gt 0 ] && [ "$(flows "$tmp/m4.json")" = "$fl4" ]
	check "flow cap evicts and counts (${ev4:-?} of ${fl4:-?} flows evicted, every one still reported)" $?
	# four times the packets and flows, the same peak memory (within 20% + 2 MB)
	[ -n "$r1" ] && [ -n "$r4" ] && [ "$r4" -le $((r1 * 12 / 10 + 2048)) ]
	check "memory flat: peak RSS ${r1} KiB for 60k packets, ${r4} KiB for 240k" $?
fi

# --- -i any: live capture on every interface, stats on a quiet wire ----------
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: live: -i any: capturing needs root"
else
	"$T" -i any --stats-interval 1s --events "$tmp/any.json" -q tcp port 9 2>"$tmp/any.err" &
	bg=$!
	sleep 3.5
	kill -TERM $bg
	wait $bg; rc=$?
	bg=
	n=$(grep -c '"event_type":"stats"' "$tmp/any.json" 2>/dev/null || echo 0)
	[ $rc = 0 ] && [ "$n" -ge 3 ] && grep -q 'kernel: .* received' "$tmp/any.err"
	check "-i any captures, reports stats every second on a quiet wire ($n) and kernel counters at exit" $?
fi

# --- -Z: privileges dropped after opening outputs ----------------------------
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: live: -Z privilege drop: needs root"
elif ! id nobody >/dev/null 2>&1; then
	echo "SKIP: live: -Z privilege drop: no user nobody"
else
	mkdir -m 700 "$tmp/rootonly"
	"$T" --replay "$LAB" --speed 2 -Z nobody --events "$tmp/rootonly/ev.json" -q 2>"$tmp/z.err" &
	bg=$!
	sleep 2
	uid=$(awk '/^Uid:/ { print $2 " " $3 " " $4 " " $5 }' /proc/$bg/status)
	mv "$tmp/rootonly/ev.json" "$tmp/rootonly/ev.json.1"
	kill -HUP $bg
	sleep 1
	kill -TERM $bg
	wait $bg
	bg=
	nobody=$(id -u nobody)
	[ "$uid" = "$nobody $nobody $nobody $nobody" ]; check "-Z nobody: running as uid $nobody (Uid: $uid)" $?
	grep -q 'reopening events: .*Permission denied' "$tmp/z.err" && [ ! -e "$tmp/rootonly/ev.json" ]
	check "-Z nobody: cannot open a new file where only root may write" $?
	[ -s "$tmp/rootonly/ev.json.1" ]; check "-Z nobody: the file opened before the drop is still written" $?
fi
exit 0

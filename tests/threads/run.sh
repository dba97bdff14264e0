#!/bin/bash
# tests/threads/run.sh - --threads gives the results of one thread, and keeps the memory cap.
#
#   1. every committed capture (pcaps/*.truth, with its truth's arguments) with --threads 1, 2 and 4: events,
#      JSON and CSV report and the text output byte for byte the same;
#   2. a synthetic trace of about 100 000 flows (bench/mktrace.py over the lab capture), the same way;
#   3. a flood of 1 000 000 SYNs, each a flow of its own, under --max-flows 20000: with 2 threads the same events
#      and evictions as with one, and a peak memory no more than the workers' fixed share above one thread's;
#   4. --threads values: auto, and bad ones refused;
#   5. live capture with two workers (tests/threads/live.sh).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
export LC_ALL=C
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: threads: $1"; }
fail() { echo "FAIL: threads: $1"; }
skip() { echo "SKIP: threads: $1"; }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1"; fi; }

# run NAME THREADS PCAP ARGS...: outputs into $tmp/NAME.THREADS.*
run() {
	local name=$1 n=$2 pcap=$3
	shift 3
	"$T" -r "$pcap" "$@" --threads "$n" --events "$tmp/$name.$n.ev" --report-json "$tmp/$name.$n.json" \
		--report-csv "$tmp/$name.$n.csv" >"$tmp/$name.$n.txt" 2>"$tmp/$name.$n.err"
}

same_as_one() { # NAME THREADS
	cmp -s "$tmp/$1.1.ev" "$tmp/$1.$2.ev" && cmp -s "$tmp/$1.1.json" "$tmp/$1.$2.json" &&
		cmp -s "$tmp/$1.1.csv" "$tmp/$1.$2.csv" && cmp -s "$tmp/$1.1.txt" "$tmp/$1.$2.txt"
}

# ---- 1. the committed captures
for truth in "$srcdir"/pcaps/*.truth; do
	pcap=${truth%.truth}.pcap
	name=$(basename "${truth%.truth}")
	pcapdir=$(cd "$(dirname "$pcap")" && pwd)
	read -r -a args <<<"$(sed -n 's/^# args: //p' "$truth" | sed "s|@PCAPDIR@|$pcapdir|g")"
	case " ${args[*]} " in *" --asn-db "*) ;; *) args+=(--no-asn-db) ;; esac
	for n in 1 2 4; do
		run "$name" "$n" "$pcap" "${args[@]}"
	done
	lines=$(wc -l <"$tmp/$name.1.ev")
	[ "$lines" -gt 0 ] && same_as_one "$name" 2 && same_as_one "$name" 4
	check "$name: --threads 2 and 4 write what one thread writes ($lines events, report, text)" $?
done

# the end-of-run summary says where each thread's time went: none with one thread; the reader (finishing
# the flows itself) and the worker with two; the reader, two workers and the finishing thread with four
num='[0-9]+\.[0-9]{3} s'
thread_lines() {
	grep -cE "^tamperscope:   thread ($2) +$num CPU( \(finishing flows $num\))?; waited $num for [a-z' ]+, $num for [a-z' ]+\$" \
		"$tmp/lab-interference.$1.err"
}
[ "$(grep -c "thread " "$tmp/lab-interference.1.err")" = 0 ] &&
	grep -qE "^tamperscope:   thread reader +$num CPU \(finishing flows $num\)" "$tmp/lab-interference.2.err" &&
	[ "$(thread_lines 2 'reader')" = 1 ] && [ "$(thread_lines 2 'worker 1')" = 1 ] &&
	[ "$(thread_lines 2 'worker 2|finishing')" = 0 ] &&
	[ "$(thread_lines 4 'reader|worker 1|worker 2|finishing')" = 4 ] && [ "$(thread_lines 4 'worker 3')" = 0 ]
check "the summary gives each thread's CPU time and waits (none with one thread)" $?

# ---- 2. about 100 000 flows
if python3 "$srcdir/bench/mktrace.py" --rounds 2400 -o "$tmp/big.pcap" "$srcdir/pcaps/lab-interference.pcap" \
	>/dev/null 2>"$tmp/mktrace.err"; then
	for n in 1 2 4; do
		run big "$n" "$tmp/big.pcap" --no-asn-db --ca-bundle "$srcdir/pcaps/lab-interference-ca.pem"
	done
	flows=$(wc -l <"$tmp/big.1.ev")
	[ "$flows" -ge 100000 ] && same_as_one big 2 && same_as_one big 4
	check "synthetic trace of $flows flows: --threads 2 and 4 write what one thread writes" $?
	rm -f "$tmp/big.pcap"
else
	fail "mktrace.py could not write the synthetic trace: $(head -c 200 "$tmp/mktrace.err")"
fi

# ---- 3. a SYN flood under the flow cap (a third of it in a sanitizer build: the same evictions, a third the time)
nsyn=1000000
[ -z "${TS_SAN_CFLAGS:-}" ] || nsyn=300000
python3 "$srcdir/tests/threads/synflood.py" "$nsyn" "$tmp/flood.pcap"
for n in 1 2; do
	/usr/bin/time -f %M -o "$tmp/flood.$n.rss" "$T" -r "$tmp/flood.pcap" --no-asn-db --max-flows 20000 \
		--threads "$n" --events "$tmp/flood.$n.ev" -q 2>"$tmp/flood.$n.err"
done
rss1=$(tail -1 "$tmp/flood.1.rss")
rss2=$(tail -1 "$tmp/flood.2.rss")
ev=$(wc -l <"$tmp/flood.1.ev")
ev1=$(grep -c '"reason":"evicted"' "$tmp/flood.1.ev")
ev2=$(grep -c '"reason":"evicted"' "$tmp/flood.2.ev")
[ "$ev" = "$nsyn" ] && [ "$ev1" -ge $((nsyn - 30000)) ] && [ "$ev1" = "$ev2" ] && cmp -s "$tmp/flood.1.ev" "$tmp/flood.2.ev"
check "$nsyn SYNs under --max-flows 20000: $ev1 evicted, the same events with 2 threads" $?
# the workers' fixed share: 2 x (4 MiB of queued packets + nDPI + caches); nothing that grows with the flood.
# A sanitizer build keeps freed memory in quarantine (ASan: 256 MiB) and shadow besides, so there only the
# difference between one and two threads is held to; the absolute bound is for the real build.
case "${TS_SAN_CFLAGS:-}" in
*thread*) skip "the flood's peak memory: ThreadSanitizer's shadow and history grow with each thread's memory (one thread ${rss1} KiB, two ${rss2} KiB)" ;;
?*)
	[ "$rss2" -le $((rss1 + 64 * 1024)) ]
	check "the flood's peak memory: one thread ${rss1} KiB, two ${rss2} KiB (at most 64 MiB more; sanitizer build, no absolute bound)" $?
	;;
*)
	[ "$rss2" -le $((rss1 + 64 * 1024)) ] && [ "$rss1" -le $((200 * 1024)) ]
	check "the flood's peak memory: one thread ${rss1} KiB (at most 200 MiB), two ${rss2} KiB (at most 64 MiB more)" $?
	;;
esac

# ---- 4. the option
"$T" -r "$srcdir/pcaps/lab-interference.pcap" --no-asn-db -q --threads auto --events "$tmp/auto.ev" 2>"$tmp/auto.err"
[ $? = 0 ] && [ -s "$tmp/auto.ev" ]
check "--threads auto runs" $?
for bad in 0 65 two -1; do
	"$T" -r "$srcdir/pcaps/lab-interference.pcap" --threads "$bad" >/dev/null 2>"$tmp/bad.err"
	rc=$?
	[ $rc = 2 ] && [ "$(wc -l <"$tmp/bad.err")" = 1 ] && grep -q "bad --threads" "$tmp/bad.err"
	check "--threads $bad refused with one line" $?
done
"$T" -r "$srcdir/pcaps/lab-interference.pcap" --no-asn-db -q --threads 2 -w "$tmp/ev.pcapng" \
	--ca-bundle "$srcdir/pcaps/lab-interference-ca.pem" 2>"$tmp/w.err"
[ $? = 0 ] && grep -q "with -w, flows are analysed in one thread" "$tmp/w.err"
check "-w with --threads: said, and analysed in one thread" $?

# ---- 5. live: one fanout socket per worker, tunnelled or not (root and namespaces)
bash "$srcdir/tests/threads/live.sh"

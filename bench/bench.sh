#!/bin/sh
# bench.sh - time tamperscope against the libpcap read floor and ndpiReader on large traces (not a test).
#
# Usage: bench/bench.sh [-r RUNS] [-w WARMUP] [-t handshake|bulk|both] [TRACE]
#   TRACE   a capture to time; without it bench/mktrace.py writes the traces
#           into a temporary directory from pcaps/lab-interference.pcap, or,
#           when that is absent, from the captures in ../shared/pcaps:
#             handshake  every flow replayed as captured: almost every packet
#                        belongs to a handshake (the worst case)
#             bulk       completed handshakes followed by 2000 MTU-sized
#                        server segments each (mktrace.py --bulk): mostly
#                        data after the verdict, as on a mirror port
#           -t picks one of them (default: both).
# Environment: TMPDIR (where the traces are written; without it /dev/shm when
# it has 2 GiB free, else /tmp), srcdir (default: this script's parent),
# builddir (default: srcdir), TAMPERSCOPE (default: $builddir/src/tamperscope), MKTRACE_ARGS
# (extra options for mktrace.py, both traces, e.g. "--packets 200000"),
# BULK_ARGS (options of the bulk trace; default "--bulk 2000 --max-mb 1000").
#
# Five programs read the same file, warm (page cache filled by the warm-up
# rounds), timed in interleaved rounds (each round runs every program once,
# so the drift of a shared machine's speed over minutes slows a round's
# programs alike instead of landing between one program's block of runs
# and the next's):
#   read floor   tests/pcapread: pcap_next_ex over every packet, nothing else
#   raw read     tests/pcapread --raw: read(2) through the same 1 MiB buffer
#                and the records walked in place, no libpcap: the bytes into
#                memory and nothing else (tamperscope reads plain pcap files
#                this way, src/savefile.c)
#   tamperscope  -r TRACE -q --events /dev/null (all events formatted, thrown away)
#   ndpiReader   -i TRACE -q (nDPI 4.2's demo reader: flow table + DPI, no
#                TCP reassembly, no certificate validation, prints nothing)
#   ts no events tamperscope -r TRACE -q (analysis only, no event JSON), to
#                show what the event output costs
# and GNU time gives each one's peak RSS.  The result is a table per trace
# of median and mean times, packets per second and the ratios
# tamperscope/read floor, /raw read and /ndpiReader, each as the ratio of
# the medians and as the median of the per-round ratios; then,
# per trace, tamperscope with --threads 2 up to the cores present against
# one thread and against as many separate one-thread runs at once (the
# machine's own ceiling), timed in interleaved rounds: medians, speed-ups,
# peak RSS; and from one run at each count, each thread's CPU time and how
# long it waited for the others (tamperscope's closing lines).
# Last, the memory a tracked flow costs once its handshake is over:
# bench/openflows.py writes traces of N and 2N TLS 1.3 connections that
# all stay open, and the difference of the peak RSS, divided by N, is the
# cost of one (its state, its share of the flow table, the allocator's
# overhead), at one thread and at two.  Missing tools are installed with
# apt-get when running as root (libndpi-bin, time).
set -eu

runs=10
warmup=3
kind=both
while getopts r:w:t:h opt; do
	case $opt in
	r) runs=$OPTARG ;;
	w) warmup=$OPTARG ;;
	t) kind=$OPTARG ;;
	*) sed -n '2,18p' "$0"; exit 2 ;;
	esac
done
case $kind in
handshake | bulk | both) ;;
*) echo "bench: -t takes handshake, bulk or both" >&2; exit 2 ;;
esac
shift $((OPTIND - 1))

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${srcdir:-$(dirname "$here")}
builddir=${builddir:-$srcdir}
TAMPERSCOPE=${TAMPERSCOPE:-$builddir/src/tamperscope}

die() {
	echo "bench: $*" >&2
	exit 1
}

# need CMD PACKAGE: install PACKAGE when CMD is missing (root + apt only).
installed=""
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		die "$1 not found; install the Debian package $2"
	fi
	echo "bench: installing $2 (for $1)" >&2
	apt-get install -y "$2" >/dev/null || die "apt-get install $2 failed"
	installed="$installed $2"
}
need ndpiReader libndpi-bin
[ -x /usr/bin/time ] || need /usr/bin/time time
need python3 python3

[ -x "$TAMPERSCOPE" ] || die "$TAMPERSCOPE not built (run make first)"

# The traces live in memory (/dev/shm when it has room for them, unless TMPDIR
# says where): every program is to be timed reading a warm file, and a guest
# whose page cache does not stay warm (this development guest evicts a 400 MB
# trace between two reads of it, free memory notwithstanding) would otherwise
# time its disk.
shm=
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
	[ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt 2097152 ] 2>/dev/null; then
	shm=/dev/shm
fi
tmp=$(mktemp -d ${shm:+-p "$shm"})
trap 'rm -rf "$tmp"' EXIT INT TERM

# The read floor: the build's tests/pcapread, else compile it here.
pcapread=$builddir/tests/pcapread
if [ ! -x "$pcapread" ]; then
	make -C "$builddir" tests/pcapread >/dev/null 2>&1 || true
fi
if [ ! -x "$pcapread" ]; then
	pcapread=$tmp/pcapread
	${CC:-cc} -O2 -o "$pcapread" "$srcdir/bench/pcapread.c" -lpcap ||
		die "cannot build bench/pcapread.c"
fi

# A sanitizer build measures the sanitizer, not the code.
for b in "$TAMPERSCOPE" "$pcapread"; do
	if grep -qa -e __asan_init -e __ubsan_handle "$b"; then
		echo "bench: WARNING: $b is built with sanitizers; configure without --enable-sanitizers for real numbers" >&2
	fi
done

# Peak RSS: best of three runs each (after the warm-ups).
rss() {
	best=""
	for _ in 1 2 3; do
		# shellcheck disable=SC2086
		/usr/bin/time -f '%M' -o "$tmp/rss" $1 >/dev/null 2>&1 || true
		kb=$(tail -n 1 "$tmp/rss")
		if [ -z "$best" ] || [ "$kb" -lt "$best" ]; then best=$kb; fi
	done
	echo "$best"
}

# bench_trace NAME TRACE: time the five programs on TRACE, print a table.
bench_trace() {
	name=$1
	trace=$2
	# Packets and bytes once, through the floor itself.
	line=$("$pcapread" "$trace") || die "$trace: unreadable by libpcap"
	packets=$(echo "$line" | sed 's/.*: \([0-9]*\) packets.*/\1/')
	bytes=$(echo "$line" | sed 's/.*packets, \([0-9]*\) bytes.*/\1/')

	# A quick sanity run: tamperscope must succeed on the trace.
	"$TAMPERSCOPE" -r "$trace" -q --events "$tmp/events.json" 2>"$tmp/ts.err" ||
		die "tamperscope failed on $trace: $(head -n 3 "$tmp/ts.err")"
	flows=$(wc -l <"$tmp/events.json")
	rm -f "$tmp/events.json"

	cmd_floor="$pcapread $trace"
	cmd_raw="$pcapread --raw $trace"
	cmd_ts="$TAMPERSCOPE -r $trace -q --events /dev/null"
	cmd_ndpi="ndpiReader -i $trace -q"
	cmd_noev="$TAMPERSCOPE -r $trace -q"

	echo "bench: timing the $name trace ($warmup warm-up and $runs timed rounds)" >&2
	interleave "$tmp/hf.json" \
		-n "read floor" "$cmd_floor" \
		-n "raw read" "$cmd_raw" \
		-n "tamperscope" "$cmd_ts" \
		-n "ndpiReader" "$cmd_ndpi" \
		-n "ts no events" "$cmd_noev" || die "a timed program failed on $trace"

	rss_floor=$(rss "$cmd_floor")
	rss_raw=$(rss "$cmd_raw")
	rss_ts=$(rss "$cmd_ts")
	rss_ndpi=$(rss "$cmd_ndpi")
	rss_noev=$(rss "$cmd_noev")

	python3 - "$name" "$tmp/hf.json" "$packets" "$bytes" "$flows" \
		"$rss_floor" "$rss_raw" "$rss_ts" "$rss_ndpi" "$rss_noev" <<'EOF'
import json, statistics as st, sys
name, hf = sys.argv[1], sys.argv[2]
packets, nbytes, flows = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
names = ["read floor", "raw read", "tamperscope", "ndpiReader", "ts no events"]
rss = dict(zip(names, (int(x) for x in sys.argv[6:11])))
res = {r["command"]: r for r in json.load(open(hf))["results"]}
print("%s trace: %d packets, %.1f MB, %d tamperscope flow events"
      % (name, packets, nbytes / 1e6, flows))
# Rates and ratios use the median: on a shared machine one disturbed run
# moves the mean, not the median.
print("%-12s %9s %9s %9s %11s %8s %9s" % ("program", "median s", "mean s", "stddev s",
                                          "packets/s", "MB/s", "peak RSS"))
for n in names:
    r = res[n]
    print("%-12s %9.4f %9.4f %9.4f %11.0f %8.1f %6.1f MB" % (n, r["median"], r["mean"],
          r["stddev"] or 0.0, packets / r["median"], nbytes / 1e6 / r["median"], rss[n] / 1024))
ts = res["tamperscope"]["median"]
for other, fmt in (("read floor", "%.1fx"), ("raw read", "%.1fx"), ("ndpiReader", "%.2fx")):
    med = st.median(a / b for a, b in zip(res["tamperscope"]["times"], res[other]["times"]))
    print(("ratio tamperscope / %s: " + fmt + " (of the medians), " + fmt + " (median of the rounds' ratios)")
          % (other, ts / res[other]["median"], med))
print("share of tamperscope's time spent writing events: %.0f%%"
      % (100 * (1 - res["ts no events"]["median"] / ts)))
print()
EOF
	bench_threads "$name" "$trace"
}

# interleave JSON -n NAME CMD ...: warm-up rounds, then rounds in which every
# command runs once in turn, so a machine whose speed drifts over minutes
# (a shared virtual machine) slows every command of a round alike; hyperfine
# runs each command's block in turn, and the drift lands between blocks.
# Writes hyperfine's JSON shape (command, median, mean, stddev), the
# median of each command's per-round ratio to the first, and the times.
interleave() {
	out=$1
	shift
	python3 - "$out" "$warmup" "$runs" "$@" <<'EOF'
import json, os, statistics as st, subprocess, sys, time
out, warm, runs, rest = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
cmds = [(rest[i + 1], rest[i + 2]) for i in range(0, len(rest), 3)]
t = [[] for _ in cmds]
with open(os.devnull, "w") as dn:
    for r in range(warm + runs):
        for k, (_, c) in enumerate(cmds):
            s = time.perf_counter()
            subprocess.run(c, shell=True, stdout=dn, stderr=dn, check=True)
            if r >= warm:
                t[k].append(time.perf_counter() - s)
res = [{"command": n, "median": st.median(x), "mean": st.mean(x), "stddev": st.pstdev(x),
        "ratio": st.median([a / b for a, b in zip(x, t[0])]), "times": x}
       for (n, _), x in zip(cmds, t)]
json.dump({"results": res}, open(out, "w"))
EOF
}

# bench_threads NAME TRACE: --threads 1, 2, ... up to the cores present.
bench_threads() {
	name=$1
	trace=$2
	cores=$(nproc)
	[ "$cores" -ge 2 ] || { echo "threads: one core here, no speed-up to measure"; echo; return; }
	one="$TAMPERSCOPE -r $trace -q --events /dev/null"
	set -- -n "1 thread" "$one"
	n=2
	while [ "$n" -le "$cores" ]; do
		set -- "$@" -n "$n threads" "$one --threads $n"
		n=$((n + 1))
	done
	# The machine's own ceiling: as many one-thread runs as cores, started
	# together.  They share nothing, so no threaded run can beat the
	# speed-up they show (on a virtual machine whose cores share a
	# physical one, or are taken by the host, it is well under the count).
	all="$one"
	n=2
	while [ "$n" -le "$cores" ]; do
		all="$all & $one"
		n=$((n + 1))
	done
	set -- "$@" -n "$cores separate runs at once" "sh -c '$all & wait'"
	echo "bench: timing the $name trace with 1 to $cores threads, interleaved" >&2
	interleave "$tmp/thr.json" "$@" || die "a threaded run failed on $trace"
	n=1
	: >"$tmp/thr.rss"
	while [ "$n" -le "$cores" ]; do
		rss "$one --threads $n" >>"$tmp/thr.rss"
		n=$((n + 1))
	done
	python3 - "$name" "$tmp/thr.json" "$tmp/thr.rss" "$cores" <<'EOF'
import json, sys
name, cores = sys.argv[1], int(sys.argv[4])
res = json.load(open(sys.argv[2]))["results"]
rss = [int(x) for x in open(sys.argv[3]).read().split()]
one = res[0]["median"]
print("%s trace, worker threads (interleaved rounds; speed-up: median of per-round ratios):" % name)
print("%-12s %9s %9s %9s" % ("threads", "median s", "speed-up", "peak RSS"))
for i, r in enumerate(res[:-1]):
    print("%-12d %9.4f %8.2fx %6.1f MB" % (i + 1, r["median"], 1 / r["ratio"], rss[i] / 1024))
par = res[-1]["median"]
print("ceiling: %d separate one-thread runs at once take %.4f s, %.2fx the time of one:"
      % (cores, par, res[-1]["ratio"]))
print("  together they do %.2fx the work of one run in its time: the most %d threads could reach here"
      % (cores / res[-1]["ratio"], cores))
EOF
	# Where the threads' time went, as tamperscope's closing lines say it
	# (one run each; CPU time, and the waits for the other threads).
	n=2
	while [ "$n" -le "$cores" ]; do
		echo "--threads $n, one run:"
		$one --threads "$n" 2>&1 >/dev/null | sed -n 's/^tamperscope:   thread /  /p'
		n=$((n + 1))
	done
	echo
}

# The memory a tracked flow costs past its handshake: peak RSS with N and
# 2N connections open at the end, the difference over N.
bench_flow_memory() {
	n=${FLOWMEM_N:-100000}
	python3 "$srcdir/bench/openflows.py" "$n" "$tmp/open1.pcap" || die "openflows.py failed"
	python3 "$srcdir/bench/openflows.py" $((2 * n)) "$tmp/open2.pcap" || die "openflows.py failed"
	echo "memory per tracked flow ($n and $((2 * n)) TLS 1.3 connections open at the end, past their handshakes):"
	for t in 1 2; do
		a=$(rss "$TAMPERSCOPE -r $tmp/open1.pcap -q --no-asn-db --threads $t")
		b=$(rss "$TAMPERSCOPE -r $tmp/open2.pcap -q --no-asn-db --threads $t")
		echo "  --threads $t: peak RSS $((a / 1024)) MB and $((b / 1024)) MB: $(((b - a) * 1024 / n)) bytes per flow"
	done
	rm -f "$tmp/open1.pcap" "$tmp/open2.pcap"
	echo
}

if [ $# -ge 1 ]; then
	[ -r "$1" ] || die "$1: not readable"
	bench_trace given "$1"
else
	if [ -f "$srcdir/pcaps/lab-interference.pcap" ]; then
		set -- "$srcdir/pcaps/lab-interference.pcap"
	else
		set --
		for f in "$srcdir"/../shared/pcaps/*.pcap "$srcdir"/../shared/pcaps/*.pcapng; do
			[ -f "$f" ] && set -- "$@" "$f"
		done
		[ $# -gt 0 ] || die "no input: pcaps/lab-interference.pcap and ../shared/pcaps are both missing; give a TRACE"
	fi
	for name in handshake bulk; do
		[ "$kind" = both ] || [ "$kind" = "$name" ] || continue
		trace=$tmp/bench-$name.pcap
		extra=""
		[ "$name" = bulk ] && extra=${BULK_ARGS:---bulk 2000 --max-mb 1000}
		echo "bench: generating the $name trace from $# capture(s): $*" >&2
		# shellcheck disable=SC2086
		python3 "$srcdir/bench/mktrace.py" ${MKTRACE_ARGS:-} $extra -o "$trace" "$@" ||
			die "mktrace.py failed"
		bench_trace "$name" "$trace"
		rm -f "$trace"
	done
fi
bench_flow_memory
if [ -n "$installed" ]; then
	echo "bench: installed:$installed" >&2
fi

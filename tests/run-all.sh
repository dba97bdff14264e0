#!/bin/sh
# run-all.sh - run every test tier and end with "N passed, N failed, N skipped".
#
# Each tier prints lines "PASS: what", "FAIL: what" or "SKIP: what: why";
# cmocka unit tests are run in TAP mode and translated.  A tier that cannot
# run (no root, no ../shared/pcaps) says so in a SKIP line: it never passes
# silently.
srcdir=${srcdir:-.}
builddir=${builddir:-.}
TAMPERSCOPE=${TAMPERSCOPE:-$builddir/src/tamperscope}
# The package's data files (interception-CA list) from the source tree, so
# VPATH builds and distcheck find them before installation.
TAMPERSCOPE_DATADIR=${TAMPERSCOPE_DATADIR:-$srcdir/data}
export srcdir builddir TAMPERSCOPE TAMPERSCOPE_DATADIR
# TS_TIERS picks tiers for a quick run while developing (default: all):
#   make check TS_TIERS="unit golden"
# Every tier left out prints a SKIP line, so a partial run never looks whole.
TS_TIERS=${TS_TIERS:-all}
tier_name=
tier_close() { # how long the tier before took
	[ -n "$tier_name" ] && echo "-- tier $tier_name: $((SECONDS - tier_t0)) s"
	tier_name=
}
tier() { # tier NAME: is it selected?  Otherwise say so.
	tier_close
	case " $TS_TIERS " in
	*" all "* | *" $1 "*) tier_name=$1; tier_t0=$SECONDS; return 0 ;;
	esac
	echo "SKIP: tier $1: not selected (TS_TIERS=$TS_TIERS)"
	return 1
}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_unit() {
	t=$1
	name=$(basename "$t")
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1)
	rc=$?
	# A test that calls skip() prints "# skip: why" first (cmocka's TAP
	# has no reason field): its SKIP line says why.
	printf '%s\n' "$out" | awk -v n="$name" '
		/^# skip: / { why = substr($0, 9); next }
		/^ok [0-9]+ - / { sub(/^ok [0-9]+ - /, ""); print "PASS: " n ": " $0; next }
		/^not ok [0-9]+ # SKIP / { sub(/^not ok [0-9]+ # SKIP /, "");
			print "SKIP: " n ": " $0 ": " (why != "" ? why : "no reason given"); why = ""; next }
		/^not ok [0-9]+ - / { sub(/^not ok [0-9]+ - /, ""); print "FAIL: " n ": " $0; next }'
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
		echo "FAIL: $name: exited with status $rc"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
	fi
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | grep -v '^ok ' | tail -n 40 | sed 's/^/    /'
	fi
}

# run_replay NAME: every input of tests/fuzz/corpus/NAME, once, through the
# harness tests/fuzz/fuzz_NAME.c - by replay_NAME (replay.c) in normal
# builds, by the libFuzzer binary fuzz_NAME (which runs each file it is
# given once) in --enable-fuzzing builds.  Fails when the corpus is missing
# or empty, when neither program was built, or when the program crashes or
# exits non-zero.
run_replay() {
	name=$1
	corpus=$srcdir/tests/fuzz/corpus/$name
	n=0
	[ -d "$corpus" ] && n=$(find "$corpus" -maxdepth 1 -type f ! -name '.*' | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "FAIL: fuzz: $name: no inputs in tests/fuzz/corpus/$name"
		return
	fi
	if [ -x "$builddir/tests/fuzz/replay_$name" ]; then
		prog=replay_$name
		out=$("$builddir/tests/fuzz/$prog" "$corpus" 2>&1)
		rc=$?
		n=$(printf '%s\n' "$out" | sed -n 's/^\([0-9][0-9]*\) inputs replayed$/\1/p')
	elif [ -x "$builddir/tests/fuzz/fuzz_$name" ]; then
		prog=fuzz_$name
		out=$(find "$corpus" -maxdepth 1 -type f ! -name '.*' -print0 | sort -z |
			xargs -0 "$builddir/tests/fuzz/$prog" 2>&1)
		rc=$?
	else
		echo "FAIL: fuzz: $name: neither tests/fuzz/replay_$name nor fuzz_$name was built"
		return
	fi
	if [ $rc -eq 0 ] && [ -n "$n" ]; then
		echo "PASS: fuzz: $name: $n inputs replayed ($prog)"
	else
		echo "FAIL: fuzz: $name: $prog exited with status $rc"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/    /'
	fi
}

{
	if tier unit; then
		echo "== unit tests (cmocka)"
		for t in $UNIT_TESTS; do
			run_unit "$builddir/$t"
		done
	fi

	if tier fuzz; then
		echo "== fuzz corpora (tests/fuzz/corpus: every saved input through its harness)"
		for src in "$srcdir"/tests/fuzz/fuzz_*.c; do
			name=${src##*/fuzz_}
			run_replay "${name%.c}"
		done
		# A corpus nothing replays would pass silently.
		for dir in "$srcdir"/tests/fuzz/corpus/*/; do
			name=$(basename "$dir")
			[ -f "$srcdir/tests/fuzz/fuzz_$name.c" ] ||
				echo "FAIL: fuzz: tests/fuzz/corpus/$name: no harness tests/fuzz/fuzz_$name.c"
		done
	fi

	if tier cli; then
		echo "== command line and bad input"
		sh "$srcdir/tests/cli/run.sh"
	fi

	if tier live; then
		echo "== live path: replay, signals, metrics, privilege drop"
		bash "$srcdir/tests/live/run.sh"
	fi

	if tier asn; then
		echo "== networks and reports (ASN databases, conclusions, merge)"
		sh "$srcdir/tests/asn/run.sh"
	fi

	if tier certs; then
		echo "== certificates (real interception roots in ../shared/certs, data file)"
		CERTMATCH="$builddir/tests/certs/certmatch" sh "$srcdir/tests/certs/run.sh"
	fi

	if tier golden; then
		echo "== golden captures (pcaps/*.truth)"
		found=0
		for truth in "$srcdir"/pcaps/*.truth; do
			[ -f "$truth" ] || continue
			found=1
			pcap=${truth%.truth}.pcap
			[ -f "$pcap" ] || pcap=${truth%.truth}.pcapng
			sh "$srcdir/tests/golden/check-truth.sh" "$pcap" "$truth" "$TAMPERSCOPE"
		done
		[ $found = 1 ] || echo "FAIL: golden: no pcaps/*.truth found"

		sh "$srcdir/tests/golden/report-lab.sh"
		sh "$srcdir/tests/golden/report-quic.sh"

		echo "== golden outputs (tests/golden/expected: events, reports, text, byte for byte)"
		bash "$srcdir/tests/golden/golden.sh"
	fi

	if tier ordinary; then
		echo "== ordinary traffic is not interference (crafted captures)"
		bash "$srcdir/tests/ordinary/run.sh"
	fi

	if tier evidence; then
		echo "== evidence capture (-w: interfered flows, read back, manifest, anonymised, bad output)"
		bash "$srcdir/tests/evidence/run.sh"
	fi

	if tier html; then
		echo "== HTML report (--html: agrees with --report-json, self-contained, headless Chromium)"
		bash "$srcdir/tests/html/run.sh"
	fi

	if tier threads; then
		echo "== worker threads (--threads 1, 2, 4: the same bytes out; a SYN flood under the flow cap)"
		bash "$srcdir/tests/threads/run.sh"
	fi

	if tier tunnel; then
		echo "== tunnelled mirrors (pcaps/* wrapped in VXLAN, GENEVE, GRE, ERSPAN, ...: the same verdicts)"
		bash "$srcdir/tests/tunnel/run.sh"
	fi

	if tier thirdparty; then
		echo "== third-party captures (../shared/pcaps)"
		sh "$srcdir/tests/thirdparty/sni-vs-tshark.sh"
		sh "$srcdir/tests/thirdparty/ordinary.sh"
	fi

	if tier clickhouse; then
		echo "== many sensors, one ClickHouse (real clickhouse-server: rows, loader, views, shards)"
		bash "$srcdir/tests/clickhouse/run.sh"
	fi

	if tier lab; then
		echo "== real-stack lab (root, network namespaces)"
		# Two groups side by side: the labs mostly wait on timeouts, and
		# each has namespaces of its own (named by its pid).  Their lines
		# come out group by group.
		labdir=$(mktemp -d)
		{
			bash "$srcdir/tests/lab/lab.sh" check "$builddir"
			bash "$srcdir/tests/lab/lab.sh" live "$builddir"
			bash "$srcdir/tests/lab/lab.sh" live "$builddir" 2
		} >"$labdir/a" 2>&1 &
		{
			bash "$srcdir/tests/lab/mitm.sh" check "$builddir"
			bash "$srcdir/tests/lab/vantage.sh" check "$builddir"
			bash "$srcdir/tests/lab/dnshttp.sh" check "$builddir"
			bash "$srcdir/tests/lab/quic.sh" check "$builddir"
		} >"$labdir/b" 2>&1 &
		wait
		cat "$labdir/a" "$labdir/b"
		rm -rf "$labdir"
	fi
	tier_close
} 2>&1 | tee "$log"

pass=$(grep -c '^PASS: ' "$log")
fail=$(grep -c '^FAIL: ' "$log")
skip=$(grep -c '^SKIP: ' "$log")
echo
if [ "$fail" -ne 0 ]; then
	echo "Failures:"
	grep '^FAIL: ' "$log"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

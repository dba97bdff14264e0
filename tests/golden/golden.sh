#!/bin/bash
# golden.sh - "same bytes out": every committed capture (pcaps/*.truth names
# them) is analysed with its truth file's arguments and a test ASN database,
# and the full outputs are compared byte for byte with tests/golden/expected:
#   NAME.events.json   every event line (flow, tls_consistency)
#   NAME.report.json   --report-json
#   NAME.report.csv    --report-csv
#   NAME.text          the human report and summary on stdout
# Volatile members (none today; list them in MASK) are replaced by "*" in
# the events before comparing.  A refactoring must leave every file equal;
# a change of behaviour updates them on purpose:
#   tests/golden/golden.sh --update     (then review `git diff`)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
export LC_ALL=C
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
expected="$srcdir/tests/golden/expected"
MASK='[]'   # event member paths to mask, as jq path arrays: [["tamperscope_version"]]
update=0
[ "${1:-}" = "--update" ] && update=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: golden: $1"; }
pass() { echo "PASS: golden: $1"; }

if ! perl "$srcdir/tools/mktest-mmdb.pl" --out "$tmp/asn.mmdb" "$srcdir/tests/golden/asn.csv" 2>"$tmp/mmdb.err"; then
	fail "cannot write the test ASN database: $(head -c 200 "$tmp/mmdb.err")"
	exit 0
fi
mask() { jq -c --argjson m "$MASK" 'reduce $m[] as $p (.; if getpath($p) != null then setpath($p; "*") else . end)'; }

for truth in "$srcdir"/pcaps/*.truth; do
	[ -f "$truth" ] || continue
	pcap=${truth%.truth}.pcap
	[ -f "$pcap" ] || pcap=${truth%.truth}.pcapng
	name=$(basename "${truth%.truth}")
	pcapdir=$(cd "$(dirname "$pcap")" && pwd)
	args=$(sed -n 's/^# args: //p' "$truth" | sed "s|@PCAPDIR@|$pcapdir|g")
	case " $args " in *" --asn-db "*) ;; *) args="$args --asn-db $tmp/asn.mmdb" ;; esac
	out="$tmp/$name"
	mkdir -p "$out"
	# shellcheck disable=SC2086
	"$T" -r "$pcap" $args --events "$out/events.raw" --report-json "$out/report.json" \
		--report-csv "$out/report.csv" >"$out/text" 2>"$out/stderr"
	rc=$?
	if [ $rc != 0 ]; then
		fail "$name: tamperscope exited with $rc: $(head -c 200 "$out/stderr")"
		continue
	fi
	if ! mask <"$out/events.raw" >"$out/events.json"; then
		fail "$name: events are not JSON lines"
		continue
	fi
	for kind in events.json report.json report.csv text; do
		want="$expected/$name.$kind"
		if [ $update = 1 ]; then
			cp "$out/$kind" "$want"
			echo "golden: wrote $want"
		elif [ ! -f "$want" ]; then
			fail "$name.$kind: no expected file $want (run tests/golden/golden.sh --update)"
		elif cmp -s "$out/$kind" "$want"; then
			pass "$name.$kind identical ($(wc -l <"$want") lines)"
		else
			fail "$name.$kind differs from the golden file:"
			diff -u "$want" "$out/$kind" | head -n 20 | sed 's/^/    /'
		fi
	done
done

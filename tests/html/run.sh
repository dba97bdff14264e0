#!/bin/bash
# tests/html/run.sh - the HTML report (--html, merge --html): its numbers
# agree with --report-json of the same run, it loads nothing from
# elsewhere, an unwritable path is refused before any packet is read, and a
# real browser (headless Chromium) renders it to a screenshot that is not
# blank.  Without Chromium that check says so and is skipped.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: html: $1"; }
fail() { echo "FAIL: html: $1"; }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1"; fi; }
PCAPS=$srcdir/pcaps
CHECK="python3 $srcdir/tests/html/check.py"

if ! perl "$srcdir/tools/mktest-mmdb.pl" --out "$tmp/asn.mmdb" "$srcdir/tests/golden/asn.csv" 2>/dev/null; then
	fail "cannot write the test ASN database"
	exit 0
fi
"$T" -r "$PCAPS/lab-interference.pcap" --ca-bundle "$PCAPS/lab-interference-ca.pem" --asn-db "$tmp/asn.mmdb" \
	-q --html "$tmp/interference.html" --report-json "$tmp/interference.json" 2>/dev/null
check "--html on lab-interference: exit 0" $?
$CHECK "$tmp/interference.html" "$tmp/interference.json"
grep -q 'humr-site.example' "$tmp/interference.html" && grep -q 'JSC Kazakhtelecom' "$tmp/interference.html"
check "the page names the blocked domains and the networks" $?

A=(--ca-bundle "$PCAPS/lab-mitm-ca.pem" --interception-cas "$PCAPS/lab-mitm-cas.tsv" --asn-db "$PCAPS/lab-mitm-asn.mmdb")
"$T" -r "$PCAPS/lab-mitm.pcap" "${A[@]}" -q --html "$tmp/mitm.html" --report-json "$tmp/mitm.json" 2>/dev/null
check "--html on lab-mitm: exit 0" $?
$CHECK "$tmp/mitm.html" "$tmp/mitm.json"
grep -q 'lab-isca-a' "$tmp/mitm.html" && grep -q 'Information Security Certification Authority' "$tmp/mitm.html" &&
	grep -q '(known interception CA)' "$tmp/mitm.html"
check "interception-CA findings with the chain the clients were shown" $?

"$T" merge "$tmp/interference.json" "$tmp/mitm.json" -q --html "$tmp/merged.html" --report-json "$tmp/merged.json"
check "merge --html: exit 0" $?
$CHECK "$tmp/merged.html" "$tmp/merged.json"

"$T" -r "$PCAPS/lab-interference.pcap" --html "$tmp/no/such/dir/r.html" --events "$tmp/x.json" -q >"$tmp/o" 2>"$tmp/e"
rc=$?
[ $rc != 0 ] && [ "$(grep -c . "$tmp/e")" = 1 ] && grep -q '^tamperscope: cannot write --html: .*No such file' "$tmp/e" &&
	[ ! -s "$tmp/x.json" ]
check "an unwritable --html path: one-line error before any packet is read" $?
"$T" merge "$tmp/mitm.json" --html "$tmp/no/such/dir/r.html" -q >"$tmp/o" 2>"$tmp/e"
[ $? != 0 ] && [ "$(grep -c . "$tmp/e")" = 1 ]
check "merge: an unwritable --html path: one-line error" $?

# A real browser: Debian's chromium, headless, with nothing of its own going
# out (no sync, updates or background networking) and a throw-away profile.
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: html: headless Chromium: chromium is not installed (tools/install-deps.sh installs it)"
	exit 0
fi
shot() { # page png
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$tmp/profile" --hide-scrollbars --window-size=1200,2000 \
		--screenshot="$2" "file://$1" >"$tmp/chromium.log" 2>&1
}
for page in interference mitm; do
	if shot "$tmp/$page.html" "$tmp/$page.png" && [ -s "$tmp/$page.png" ]; then
		pass "headless Chromium rendered $page.html"
		$CHECK --png "$tmp/$page.png"
	else
		fail "headless Chromium did not render $page.html: $(tail -c 300 "$tmp/chromium.log")"
	fi
done
# The screenshot in doc/ is the page of the demo capture (see README).
[ -s "$srcdir/doc/report.png" ] && $CHECK --png "$srcdir/doc/report.png" | sed 's/the screenshot/doc\/report.png/'

#!/bin/sh
# run.sh - the interception-CA list against its sources: the reference report's SHA-1 prefixes, and the real
# Kazakhstan roots in ../shared/certs recognised by fingerprint through tamperscope's own parser and matcher.
#
# Prints "PASS: certs: ...", "FAIL: certs: ..." or "SKIP: certs: ...: why" lines; exits 1 when anything failed.
# Environment: srcdir, builddir (default .), TS_SHARED_CERTS (default $srcdir/../shared/certs),
# CERTMATCH (default $builddir/tests/certs/certmatch, built by make check).
export LC_ALL=C
srcdir=${srcdir:-.}
builddir=${builddir:-.}
DATA=$srcdir/data/interception-cas.tsv
CERTS=${TS_SHARED_CERTS:-$srcdir/../shared/certs}
CERTMATCH=${CERTMATCH:-$builddir/tests/certs/certmatch}
# The reference report's facts: 7 intermediates, 4 roots (first 8 hex digits of SHA-1, as the report gives them).
REPORT_INTERMEDIATES="c0e15a94 90f9aa29 8634ecae cb074692 dfcd9dcb 5d54c6af 76e9f2a5"
REPORT_ROOTS="fabda72f ea5d093c 1375ebdc bfd7f531"

failed=0
pass() { echo "PASS: certs: $*"; }
fail() { echo "FAIL: certs: $*"; failed=1; }
skip() { echo "SKIP: certs: $*"; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

if [ ! -r "$DATA" ]; then
	fail "$DATA missing"
	exit 1
fi
# Entries only (no comments, no blank lines), tab-separated.
grep -v '^[[:space:]]*#' "$DATA" | grep -v '^[[:space:]]*$' >"$tmp/entries"

bad=$(awk -F'\t' 'NF != 6 { print NR": "$0 }' "$tmp/entries" | head -3)
if [ -z "$bad" ]; then pass "data file: every entry has 6 tab-separated fields"; else fail "data file: bad entries: $bad"; fi

# --- the report's SHA-1 prefixes -----------------------------------------------------------------------------------
for p in $REPORT_INTERMEDIATES $REPORT_ROOTS; do
	if awk -F'\t' -v p="$p" 'index($3, p) == 1 { found = 1 } END { exit !found }' "$tmp/entries"; then
		pass "report SHA-1 $p... is in the data file"
	else
		fail "report SHA-1 $p... missing from the data file"
	fi
done
stray=$(awk -F'\t' -v list=" $REPORT_INTERMEDIATES " '$2 == "prefix" && index(list, " "$3" ") == 0 { print $3 }' \
	"$tmp/entries")
if [ -z "$stray" ]; then pass "every prefix entry is one of the report's intermediates"; else fail "prefix entries not in the report: $stray"; fi
for p in $REPORT_ROOTS; do
	kind=$(awk -F'\t' -v p="$p" 'index($3, p) == 1 { print $2 ":" length($3); exit }' "$tmp/entries")
	if [ "$kind" = "fingerprint:40" ]; then pass "report root $p... has its full SHA-1"; else fail "report root $p...: entry is $kind, not a full fingerprint"; fi
done

# --- the real roots ------------------------------------------------------------------------------------------------
if [ ! -d "$CERTS" ]; then
	skip "real roots: $CERTS absent (set TS_SHARED_CERTS)"
	exit $failed
fi
if ! command -v openssl >/dev/null 2>&1; then
	skip "real roots: openssl not installed"
	exit $failed
fi
# Lists holding one hash column each, so each kind of fingerprint is proved to match on its own.
awk -F'\t' -v OFS='\t' '$2 == "fingerprint" { print $1, $2, $3, "-", "-", $6 }' "$tmp/entries" >"$tmp/sha1.tsv"
awk -F'\t' -v OFS='\t' '$2 == "fingerprint" { print $1, $2, "-", $4, "-", $6 }' "$tmp/entries" >"$tmp/sha256.tsv"
awk -F'\t' -v OFS='\t' '$2 == "fingerprint" { print $1, $2, "-", "-", $5, $6 }' "$tmp/entries" >"$tmp/spki_sha256.tsv"
n=0
for pem in "$CERTS"/*.pem; do
	[ -f "$pem" ] || continue
	n=$((n + 1))
	base=$(basename "$pem" .pem)
	sha1=$(openssl x509 -in "$pem" -outform DER | openssl dgst -sha1 -r | cut -c1-40)
	sha256=$(openssl x509 -in "$pem" -outform DER | openssl dgst -sha256 -r | cut -c1-64)
	spki=$(openssl x509 -in "$pem" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -c1-64)
	if [ -r "$CERTS/hashes.psv" ]; then
		want=$(awk -F'|' -v b="$base" '$1 == b { print $5 " " $6 " " $7 }' "$CERTS/hashes.psv")
		if [ "$want" = "$sha1 $sha256 $spki" ]; then pass "$base: openssl agrees with hashes.psv"; else fail "$base: openssl gives $sha1 $sha256 $spki, hashes.psv says '$want'"; fi
	fi
	if awk -F'\t' -v a="$sha1" -v b="$sha256" -v c="$spki" '$2 == "fingerprint" && $3 == a && $4 == b && $5 == c { f = 1 } END { exit !f }' "$tmp/entries"; then
		pass "$base: SHA-1, SHA-256 and SPKI-SHA-256 listed in the data file"
	else
		fail "$base: no data-file entry with its three fingerprints"
	fi
	if [ ! -x "$CERTMATCH" ]; then
		continue
	fi
	for field in sha1 sha256 spki_sha256; do
		got=$("$CERTMATCH" "$tmp/$field.tsv" "$pem" 2>&1 | cut -f5-7)
		case "$got" in
		kz-*"	fingerprint	$field") pass "$base: recognised by $field ($(echo "$got" | cut -f1))" ;;
		*) fail "$base: not recognised by $field through tamperscope's matcher: $got" ;;
		esac
	done
done
if [ "$n" = 0 ]; then
	skip "real roots: no *.pem in $CERTS"
elif [ ! -x "$CERTMATCH" ]; then
	skip "real roots through tamperscope's matcher: $CERTMATCH not built"
else
	# The whole list as shipped: every real root is a fingerprint match, never only a name match.
	names=$("$CERTMATCH" "$DATA" "$CERTS"/*.pem | awk -F'\t' '$6 != "fingerprint" { print $1 }')
	if [ -z "$names" ]; then pass "all $n real roots match the shipped list by fingerprint"; else fail "not matched by fingerprint: $names"; fi
fi
exit $failed

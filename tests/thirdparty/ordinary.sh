#!/bin/sh
# ordinary.sh - third-party tier: the public nDPI and Zeek test captures in
# ../shared/pcaps are ordinary traffic, not censorship.  Each alone, and all
# of them together, must give no "blocked" conclusion at all; and chains
# whose roots have left today's store are judged by the anchors of their
# packets' time (trusted then, or unknown_anchor - never untrusted for that).
srcdir=${srcdir:-.}
builddir=${builddir:-.}
T=${TAMPERSCOPE:-$builddir/src/tamperscope}
shared=${TS_SHARED_PCAPS:-$srcdir/../shared/pcaps}
if [ ! -d "$shared" ]; then
	echo "SKIP: thirdparty-ordinary: $shared not found (third-party captures are not shipped with the project)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: thirdparty-ordinary: $1"; }
fail() { echo "FAIL: thirdparty-ordinary: $1"; }

blocked() { # report JSON file -> blocked pairs, one per line
	jq -r '.by_domain_network[] | select(.conclusion.blocked) | "\(.asn) \(.domain) \(.conclusion.method)"' "$1"
}
n=0
for f in "$shared"/*.pcap "$shared"/*.pcapng; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	"$T" -r "$f" --no-asn-db -q --report-json "$tmp/r.json" 2>/dev/null
	if [ ! -s "$tmp/r.json" ]; then
		fail "$(basename "$f"): no report written"
		continue
	fi
	b=$(blocked "$tmp/r.json")
	if [ -z "$b" ]; then
		pass "$(basename "$f"): no conclusion of blocking"
	else
		fail "$(basename "$f"): concluded blocked: $(echo "$b" | tr '\n' ';')"
	fi
	rm -f "$tmp/r.json"
done
[ $n -gt 0 ] || fail "no captures in $shared"
"$T" -r "$shared" --no-asn-db -q --report-json "$tmp/all.json" 2>/dev/null
b=$(blocked "$tmp/all.json")
[ -s "$tmp/all.json" ] && [ -z "$b" ] && pass "all $n captures together: no conclusion of blocking" ||
	fail "all captures together: concluded blocked: $(echo "$b" | tr '\n' ';')"

# Old roots: google_ssl (2015) chains to GeoTrust Global CA (left the store
# 2020-06-01), tls-expired-cert (2014) to VeriSign Class 3 G5 (same day).
for f in google_ssl.pcap tls-expired-cert.pcap; do
	[ -f "$shared/$f" ] || { fail "$f missing"; continue; }
	"$T" -r "$shared/$f" --no-asn-db -q --events "$tmp/e.json" 2>/dev/null
	# "unable to get local issuer" means an anchor judged by today's store
	if jq -e -s '[.[] | select(.tls.trust == "untrusted" and .tls.trust_code == 20)] | length == 0' \
		"$tmp/e.json" >/dev/null; then
		pass "$f: no chain untrusted for want of an anchor that has left the store since"
	else
		fail "$f: a chain is untrusted for want of a removed anchor"
	fi
done
# With the removed roots' certificates built (make data), they are trusted.  The
# program looks in $TAMPERSCOPE_DATADIR, then where it is installed (make install).
pem="${TAMPERSCOPE_DATADIR:-$srcdir/data}/removed-roots.pem"
[ -f "$pem" ] || [ -z "${TS_PKGDATADIR:-}" ] || pem="$TS_PKGDATADIR/removed-roots.pem"
if [ -f "$pem" ]; then
	"$T" -r "$shared/google_ssl.pcap" --no-asn-db -q --events - 2>/dev/null |
		jq -e -s '[.[] | select(.tls.chain | length > 0)][0] | .tls.trust == "trusted" and
			.tls.removed_anchor.label == "GeoTrust Global CA" and .tls.removed_anchor.removed_on == "2020-06-01"' >/dev/null &&
		pass "google_ssl.pcap: trusted in 2015 through GeoTrust Global CA (removed 2020-06-01)" ||
		fail "google_ssl.pcap: not trusted through its removed root"
else
	"$T" -r "$shared/google_ssl.pcap" --no-asn-db -q --events - 2>/dev/null |
		jq -e -s '[.[] | select(.tls.chain | length > 0)][0].tls.trust == "unknown_anchor"' >/dev/null &&
		pass "google_ssl.pcap: unknown_anchor without the removed roots' certificates ($pem not built)" ||
		fail "google_ssl.pcap: not unknown_anchor without the removed roots' certificates"
fi
# Worker threads share those certificates, parsed by the first worker that needs them: the same events.
for f in google_ssl.pcap tls-expired-cert.pcap; do
	a=$("$T" -r "$shared/$f" --no-asn-db -q --events - 2>/dev/null)
	b=$("$T" -r "$shared/$f" --no-asn-db -q --events - --threads 3 2>/dev/null)
	[ -n "$a" ] && [ "$a" = "$b" ] && pass "$f: the same events with --threads 3 (removed roots loaded in a worker)" ||
		fail "$f: --threads 3 changes the events"
done

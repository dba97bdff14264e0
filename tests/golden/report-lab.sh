#!/bin/sh
# tests/golden/report-lab.sh - the per-network report on the committed lab
# capture, with a test MMDB that maps the lab's client subnets to AS9198
# (net-a), AS21299 (net-b) and a control network: exactly the censored names
# are blocked on each network, with the right method, none on the control
# network, and confidence rises with the number of flows.
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
LAB="$srcdir/pcaps/lab-interference.pcap"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: report-lab: $1"; }
fail() { echo "FAIL: report-lab: $1"; }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1"; fi; }

if ! perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null; then
	fail "libmaxmind-db-writer-perl not installed (a declared test dependency)"
	exit 0
fi
cat >"$tmp/lab.csv" <<'CSV'
198.18.1.0/24,9198,JSC Kazakhtelecom
198.18.2.0/24,21299,Kar-Tel LLC
198.18.3.0/24,64500,Lab control network
198.19.0.0/16,64501,Lab hosting
CSV
perl "$srcdir/tools/mktest-mmdb.pl" --out "$tmp/lab.mmdb" "$tmp/lab.csv" || { fail "cannot write the test MMDB"; exit 0; }
args=$(sed -n 's/^# args: //p' "$srcdir/pcaps/lab-interference.truth" | sed "s|@PCAPDIR@|$srcdir/pcaps|g")
# shellcheck disable=SC2086
"$T" -r "$LAB" --asn-db "$tmp/lab.mmdb" --report-json "$tmp/r.json" --events "$tmp/e.json" -q $args 2>"$tmp/err"
check "lab capture analysed with the test MMDB" $?

blocked() { # ASN -> "name method" lines of blocked pairs, sorted
	jq -r --argjson a "$1" '.by_domain_network[] | select(.asn == $a and .conclusion.blocked) |
		"\(.domain) \(.conclusion.method)"' "$tmp/r.json" | sort | tr '\n' ';'
}
got=$(blocked 9198)
[ "$got" = "198.19.1.3:443 syn_timeout;humr-site.example tls_stall;news-site.example tls_stall;" ]
check "AS9198 blocks exactly news/humr by tls_stall and one address by syn_timeout ($got)" $?
got=$(blocked 21299)
[ "$got" = "198.19.1.5:443 syn_reset;humr-site.example tls_reset;vpn-site.example tls_stall;" ]
check "AS21299 blocks exactly humr by tls_reset, vpn by tls_stall, one address by syn_reset ($got)" $?
got=$(blocked 64500)
[ -z "$got" ]; check "control network: nothing blocked" $?
jq -e '.by_network[] | select(.asn == 9198) | .as_org == "JSC Kazakhtelecom"' "$tmp/r.json" >/dev/null
check "by_network names AS9198's organisation" $?
jq -s -e '[.[] | select(.event_type == "flow" and .src_ip == "198.18.2.10")] | length > 0 and
	all(.client_asn == 21299 and .client_as_org == "Kar-Tel LLC" and .server_asn == 64501)' "$tmp/e.json" >/dev/null
check "events carry client_asn/client_as_org/server_asn" $?
# names that work elsewhere make the conclusion stronger than names seen failing only here
jq -e '[.by_domain_network[] | select(.asn == 9198 and .domain == "news-site.example")][0].conclusion.cross_network == "works_elsewhere"' \
	"$tmp/r.json" >/dev/null
check "news-site.example on AS9198: works elsewhere (cross-network evidence)" $?

# confidence rises with the flow count: the same capture twice doubles every count
# shellcheck disable=SC2086
"$T" -r "$LAB" -r "$LAB" --asn-db "$tmp/lab.mmdb" --report-json "$tmp/r2.json" -q $args 2>/dev/null
c1=$(jq -r '.by_domain_network[] | select(.asn == 9198 and .domain == "news-site.example") | .conclusion.confidence' "$tmp/r.json")
c2=$(jq -r '.by_domain_network[] | select(.asn == 9198 and .domain == "news-site.example") | .conclusion.confidence' "$tmp/r2.json")
echo "$c1 $c2" | awk '{ exit !($2 > $1 && $1 > 0) }'
check "confidence rises with flow count (3 flows: $c1, 6 flows: $c2)" $?

# --anonymize-clients: no client address survives, ASN still known
# shellcheck disable=SC2086
"$T" -r "$LAB" --asn-db "$tmp/lab.mmdb" --events "$tmp/anon.json" --anonymize-clients -q $args 2>/dev/null
! grep -q '198\.18\.[123]\.10' "$tmp/anon.json" &&
	jq -s -e 'all(.[] | select(.event_type == "flow"); .src_ip | test("^198\\.18\\.[123]\\.0$")) and
		any(.[]; .client_asn == 9198)' "$tmp/anon.json" >/dev/null
check "--anonymize-clients cuts client addresses to /24 after the ASN lookup" $?

# the CSV report has a header and a row per network x name
# shellcheck disable=SC2086
"$T" -r "$LAB" --asn-db "$tmp/lab.mmdb" --report-csv "$tmp/r.csv" -q $args 2>/dev/null
[ "$(grep -c 'news-site.example' "$tmp/r.csv")" -ge 3 ] && head -1 "$tmp/r.csv" | grep -q 'asn'
check "CSV report written" $?
exit 0

#!/bin/sh
# tests/golden/report-quic.sh - the report on the committed QUIC lab capture (pcaps/lab-quic.pcap, made by
# tests/lab/quic.sh): QUIC blocked where TLS over TCP to the same name works is concluded "blocked" by quic_stall
# with the TCP successes as evidence; both transports failing gives both methods; the control network has nothing
# blocked; a merge of the report gives the same conclusions; QUIC evidence and residual marks are in the events.
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
LAB="$srcdir/pcaps/lab-quic.pcap"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { if [ "$2" = 0 ]; then echo "PASS: report-quic: $1"; else echo "FAIL: report-quic: $1"; fi; }

perl "$srcdir/tools/mktest-mmdb.pl" --out "$tmp/asn.mmdb" "$srcdir/tests/golden/asn.csv" ||
	{ echo "FAIL: report-quic: cannot write the test MMDB"; exit 0; }
"$T" -r "$LAB" --asn-db "$tmp/asn.mmdb" --report-json "$tmp/r.json" --events "$tmp/e.json" >"$tmp/text" 2>"$tmp/err"
check "QUIC lab capture analysed" $?

pair() { # ASN DOMAIN -> "status methods tcp_ok"
	jq -r --argjson a "$1" --arg d "$2" '.by_domain_network[] | select(.asn == $a and .domain == $d) |
		"\(.conclusion.status) \((.conclusion.methods // [.conclusion.method]) | join("+")) \(.conclusion.tcp_ok_flows // "-")"' \
		"$tmp/r.json"
}
got=$(pair 9198 quic-news.example)
[ "$got" = "blocked quic_stall 3" ]
check "AS9198: quic-news.example blocked by quic_stall, TLS over TCP shown working (3 ok flows) ($got)" $?
got=$(pair 21299 quic-news.example)
[ "$got" = "blocked tls_stall+quic_stall 0" ]
check "AS21299: both transports fail, both methods ($got)" $?
got=$(jq -r '[.by_domain_network[] | select(.asn == 64500 and .conclusion.blocked)] | length' "$tmp/r.json")
[ "$got" = 0 ]
check "control network: nothing blocked" $?
got=$(jq -r '[.by_domain_network[] | select(.domain == "quic-video.example" and .conclusion.blocked)] | length' "$tmp/r.json")
[ "$got" = 0 ]
check "quic-video.example (not censored) blocked nowhere" $?
grep -q "QUIC blocked; TLS over TCP to the same name works here (3 ok flows)" "$tmp/text"
check "text report says QUIC is blocked while TLS over TCP works" $?

"$T" merge "$tmp/r.json" --report-json "$tmp/m.json" >/dev/null 2>"$tmp/merr"
check "merge reads the QUIC counts back ($(head -c 100 "$tmp/merr"))" $?
[ "$(jq -c '[.by_domain_network[] | .conclusion]' "$tmp/m.json")" = "$(jq -c '[.by_domain_network[] | .conclusion]' "$tmp/r.json")" ]
check "merged report concludes the same" $?

jq -s -e '[.[] | select(.event_type == "flow" and .verdict == "quic_stall")] | length == 6 and
	all(.app_proto == "QUIC" and .sni == "quic-news.example" and .quic.version == "v1" and .quic.retransmits >= 1 and
	    .quic.time_to_server_ms == null and .evidence.drop_direction == "unknown" and .ooni_failure == "generic_timeout_error")' \
	"$tmp/e.json" >/dev/null
check "quic_stall events: SNI from the Initial, retransmissions, drop_direction unknown, OONI timeout" $?
got=$(jq -s '[.[] | select(.event_type == "flow" and .verdict == "quic_stall" and .evidence.residual)] | length' "$tmp/e.json")
[ "$got" = 4 ]
check "residual: the later QUIC attempts of each client network after the first block ($got of 6)" $?
jq -s -e '[.[] | select(.event_type == "flow" and .proto == "UDP" and .verdict == "ok")] | length == 6 and
	all(.quic.ja4 | test("^q13d")) and all(.quic.tls_version == "TLSv1.3" and .quic.certificates == "not_visible")' \
	"$tmp/e.json" >/dev/null
check "QUIC ok events: JA4 with the q prefix, ServerHello read, certificates not visible" $?
exit 0

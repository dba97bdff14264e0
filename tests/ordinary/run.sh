#!/bin/bash
# tests/ordinary/run.sh - ordinary traffic is not interference: crafted
# captures of what a careless detector calls blocking (mkcases.py says what
# each shows), analysed by the real binary, every outcome asserted.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: ordinary: $1"; }
fail() { echo "FAIL: ordinary: $1"; }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1"; fi; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# A CA and a leaf for the clockless capture (openssl is a declared dependency).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" \
	-out "$tmp/ca.pem" -subj "/O=Ordinary Lab/CN=Ordinary Root" -days 3650 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/leaf.key" \
		-out "$tmp/leaf.csr" -subj "/CN=clockless.example" 2>/dev/null &&
	printf 'subjectAltName=DNS:clockless.example\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tmp/ext" &&
	openssl x509 -req -in "$tmp/leaf.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
		-out "$tmp/leaf.pem" -days 365 -extfile "$tmp/ext" 2>/dev/null &&
	openssl x509 -in "$tmp/leaf.pem" -outform DER -out "$tmp/leaf.der" &&
	openssl x509 -in "$tmp/ca.pem" -outform DER -out "$tmp/ca.der"
check "a test CA and leaf made with openssl" $?

if ! "$PY" "$srcdir/tests/ordinary/mkcases.py" "$tmp" --certs "$tmp" 2>"$tmp/mk.err"; then
	fail "mkcases.py failed: $(head -c 300 "$tmp/mk.err")"
	exit 0
fi

events() { # file [args]: flow events as compact JSON lines
	f=$1
	shift
	"$T" -r "$tmp/$f" --no-asn-db --events - -q "$@" 2>/dev/null | jq -c 'select(.event_type == "flow")'
}
report() { # file [args]: the JSON report
	f=$1
	shift
	"$T" -r "$tmp/$f" --no-asn-db --report-json - -q "$@" 2>/dev/null
}
no_blocked() { # report on stdin: no blocked conclusion anywhere
	jq -e '[.by_domain_network[] | select(.conclusion.blocked)] | length == 0' >/dev/null
}

# Windows retries a refused SYN twice with the same ISN: one flow, and the
# RST carries the server's own TTL (known from its other flow): a closed port.
events win_syn_retry.pcap >"$tmp/e"
[ "$(jq -s '[.[] | select(.dest_port == 110)] | length' "$tmp/e")" = 1 ]
check "SYN retried after RST with the same ISN is one flow" $?
jq -s -e '[.[] | select(.dest_port == 110)][0] | .verdict == "syn_reset" and
	.evidence.syn_retransmits == 2 and .evidence.ttl_diff == 0 and .evidence.injected == false' \
	"$tmp/e" >/dev/null
check "its RST has the server's own TTL: not injected" $?
report win_syn_retry.pcap --min-flows 1 | no_blocked
check "a closed port is not concluded blocked, even with --min-flows 1" $?

# Closed ports, a departed peer, and one address really blocked at SYN.
report closed_ports.pcap >"$tmp/r"
jq -e '[.by_domain_network[] | select(.domain == "198.19.6.1:110")][0].conclusion |
	.status == "inconclusive" and .uncorroborated == true and .method == "syn_reset"' "$tmp/r" >/dev/null
check "three clients meeting a closed port: inconclusive, uncorroborated" $?
jq -e '[.by_domain_network[] | select(.domain == "198.19.6.50:6881")][0].conclusion |
	.status == "inconclusive" and .uncorroborated == true' "$tmp/r" >/dev/null
check "a P2P client's departed peer: inconclusive, uncorroborated" $?
jq -e '[.by_domain_network[] | select(.domain == "198.19.7.1:443")][0].conclusion |
	.status == "blocked" and .corroboration == ["reachable"]' "$tmp/r" >/dev/null
check "SYN drops to an address another flow reached: blocked, corroborated" $?
jq -e '[.by_domain[] | select(.domain == "198.19.7.1:443")][0].reachable_flows == 1' "$tmp/r" >/dev/null
check "the report counts the flows the endpoint answered (reachable_flows)" $?

# An nmap SYN scan: every flow marked, none in any count or conclusion.
events nmap.pcap >"$tmp/e"
[ "$(jq -s '[.[] | select(.evidence.scanner == true)] | length' "$tmp/e")" = 2000 ]
check "all 2000 flows of a SYN scan say evidence.scanner" $?
report nmap.pcap >"$tmp/r"
jq -e '.by_network[0].scanner_flows == 2000 and .by_network[0].flows == 0 and
	(.by_domain_network | length) == 0' "$tmp/r" >/dev/null
check "the scanner's network: 2000 scanner_flows, no share, no conclusion" $?

# A capture that starts mid-stream: a normal teardown is no reset.
events midstream.pcap >"$tmp/e"
jq -e -s '.[0].verdict == "incomplete" and .[0].evidence.reason == "midstream"' "$tmp/e" >/dev/null
check "mid-stream TLS teardown (alert, FIN, RSTs): incomplete, not tls_reset" $?

# The clock jumps back 282970790 s inside the handshake.
events clock_jump.pcap >"$tmp/e"
jq -e -s 'length == 1 and .[0].verdict == "ok" and .[0].evidence.clock_jump == true' "$tmp/e" >/dev/null
check "a clock jumping back inside a file: one flow, ok, clock_jump" $?
"$T" -r "$tmp/clock_jump.pcap" --no-asn-db -q 2>&1 | grep -q 'capture clock discontinuities: 1'
check "the discontinuity is counted on stderr" $?

# TLS behind a preamble: SNI and verdicts as for plain TLS.
events preambles.pcap >"$tmp/e"
while read -r sni pre verdict; do
	jq -e -s --arg s "$sni" --arg p "$pre" --arg v "$verdict" \
		'[.[] | select(.sni == $s)] | length == 1 and .[0].tls.preamble == $p and .[0].verdict == $v' \
		"$tmp/e" >/dev/null
	check "TLS after $pre: SNI $sni, $verdict" $?
done <<'LIST'
smtp.example smtp_starttls ok
pop3.example pop3_stls ok
imap.example imap_starttls ok
ftp.example ftp_auth_tls ok
xmpp.example xmpp_starttls ok
ldap.example ldap_starttls ok
db.example postgres_sslrequest ok
vpn.example http_connect tls_stall
kloop.kg socks5 ok
socks4.example socks4 ok
proxy1.example proxy_v1 ok
proxy2.example proxy_v2 ok
LIST
jq -e -s '[.[] | select(.sni == "kloop.kg")][0].tls.proxy_target == "kloop.kg:443" and
	[.[] | select(.sni == "vpn.example")][0].tls.proxy_target == "vpn.example:443"' "$tmp/e" >/dev/null
check "SOCKS and CONNECT destinations are kept (tls.proxy_target)" $?

# Certificates: an unset clock, and an algorithm OpenSSL cannot check.
events clockless.pcap --ca-bundle "$tmp/ca.pem" >"$tmp/e"
jq -e -s '.[0].tls.trust == "trusted" and .[0].tls.time_checked == false and .[0].verdict == "ok"' \
	"$tmp/e" >/dev/null
check "a capture stamped 1970 validates without time checks, saying so" $?
"$T" -r "$tmp/mldsa.pcap" --no-asn-db --events "$tmp/e" -q 2>"$tmp/err"
jq -e -s '.[0].tls.trust == "unverifiable" and .[0].tls.trust_reason == "unsupported signature algorithm" and
	.[0].verdict == "ok"' "$tmp/e" >/dev/null && grep -q 'unsupported signature algorithm' "$tmp/err" &&
	! grep -q 'out of memory' "$tmp/err"
check "an ML-DSA chain: unverifiable, 'unsupported signature algorithm', not 'out of memory'" $?

# Ordinary DNS and HTTP (mkdnshttp.py, in a directory of its own): retransmitted queries answered twice,
# load-balanced answers, split horizon, TC and the TCP retry, keep-alive, redirects, 404: no injection, no block
# page, no conclusion; the one NXDOMAIN is a failure, not interference.
mkdir -p "$tmp/dnshttp"
if "$PY" "$srcdir/tests/ordinary/mkdnshttp.py" "$tmp/dnshttp" 2>"$tmp/mk2.err"; then
	"$T" -r "$tmp/dnshttp/ordinary-dnshttp.pcap" --no-asn-db --events "$tmp/e" --report-json "$tmp/r" -q 2>/dev/null
	jq -e -s '[.[] | select(.app_proto == "DNS")] | length == 10 and
		all(.verdict == "ok" or (.verdict == "dns_error" and .dns.rrname == "www.goggle.kz"))' "$tmp/e" >/dev/null
	check "ordinary DNS: 10 transactions, all ok but one NXDOMAIN (no injection, no block page)" $?
	jq -e -s '[.[] | select(.app_proto == "HTTP")] | length == 4 and all(.verdict == "ok")' "$tmp/e" >/dev/null
	check "ordinary HTTP: keep-alive, redirect, 404, HEAD all ok" $?
	no_blocked <"$tmp/r"
	check "ordinary DNS and HTTP: no blocked conclusion" $?
else
	fail "mkdnshttp.py failed: $(head -c 300 "$tmp/mk2.err")"
fi

# Everything at once: still no conclusion but the one corroborated block.
"$T" -r "$tmp" --no-asn-db --report-json - -q --ca-bundle "$tmp/ca.pem" 2>/dev/null |
	jq -r '.by_domain_network[] | select(.conclusion.blocked) | .domain' >"$tmp/b"
[ "$(cat "$tmp/b")" = "198.19.7.1:443" ]
check "all cases in one run: the only conclusion is the corroborated block ($(tr '\n' ' ' <"$tmp/b"))" $?

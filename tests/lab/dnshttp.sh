#!/bin/bash
# dnshttp.sh - real-stack DNS and plain-HTTP interference lab: two dnsmasq resolvers and HTTP/TLS servers in the
# server namespace, dig and curl clients on three networks, and in the router namespace an on-path injector
# (tests/lab/injector.py) plus iptables; tcpdump on the router's client-side interface.
#
# Usage:
#   dnshttp.sh generate OUTDIR  build the lab, run every transaction and flow, write OUTDIR/lab-dnshttp.{pcap,truth},
#                               lab-dnshttp-asn.mmdb (the client networks' ASNs) and lab-dnshttp-blockpages.tsv
#   dnshttp.sh check BUILDDIR   generate into a temporary directory, analyse it with BUILDDIR/src/tamperscope and
#                               compare every transaction and flow with the truth (tests/golden/check-truth.sh), then
#                               the report's conclusions per network and name
#
# Networks (one client namespace, one address each):
#   net-ctl 198.18.30.10 AS64520  honest resolver 198.19.5.53, nothing censored: the control
#   net-isp 198.18.31.10 AS64521  the "ISP resolver" 198.19.5.54 answers news.example and blog.example with the
#                                 blockpage address 198.19.5.80, whose web server serves a block page (HTTP) and a
#                                 self-signed certificate (TLS)
#   net-inj 198.18.32.10 AS64522  honest resolver, but on the path: forged DNS answers for news.example (the genuine
#                                 one still arrives), a forged 302 plus a RST to the server for video.example, a
#                                 forged 302 racing the server's own answer for forum.example, iptables REJECT
#                                 tcp-reset after the GET for reset.example, GETs for stall.example dropped, queries
#                                 for slow.example dropped, SYNs to ipblocked.example (198.19.6.9) dropped
# Capture point: the router's client side: clients TTL 64, servers and resolvers 63, the router's own packets 64.
#
# Safety: every address lives in 198.18.0.0/15 inside namespaces this script creates (names carry the PID), none
# has a default route; they and their processes are removed on exit.  Not root, no namespaces, no dnsmasq or dig:
# "SKIP: lab-dnshttp: why".

# shellcheck disable=SC2317  # the labs' steps are called through lab_main (netns.sh) and the EXIT trap
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi

LAB_HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/netns.sh
. "$LAB_HERE/netns.sh"
LAB_ROOT=$(cd "$LAB_HERE/../.." && pwd)
LAB_NAME=lab-dnshttp
LAB_TAG=lab-dnshttp

NS_C="tsdns-$$-client"
NS_R="tsdns-$$-router"
NS_S="tsdns-$$-server"
NAMESPACES=()
LAB_WORK=""
LAB_TMPOUT=""
CAP_PID=""
LAB_SKIP_REASON=""
ERRORS=()
TRUTH=()

declare -A NET_IP=([net-ctl]=198.18.30.10 [net-isp]=198.18.31.10 [net-inj]=198.18.32.10)
declare -A NET_ASN=([net-ctl]=64520 [net-isp]=64521 [net-inj]=64522)
declare -A NET_PORT=([net-ctl]=44000 [net-isp]=45000 [net-inj]=46000)
declare -A NET_RESOLVER=([net-ctl]=198.19.5.53 [net-isp]=198.19.5.54 [net-inj]=198.19.5.53)
HONEST=198.19.5.53
ISP=198.19.5.54
BLOCKPAGE=198.19.5.80
FORGED=198.19.9.9
declare -A SERVER_IP=([news.example]=198.19.6.1 [shop.example]=198.19.6.2 [reset.example]=198.19.6.3
	[stall.example]=198.19.6.4 [forum.example]=198.19.6.5 [slow.example]=198.19.6.6 [video.example]=198.19.6.7
	[blog.example]=198.19.6.8 [ipblocked.example]=198.19.6.9)
ISP_BLOCKED="news.example blog.example"

log() { printf 'lab-dnshttp: %s\n' "$*" >&2; }

preflight() {
	lab_need_base ip iptables tcpdump curl openssl socat dig python3 perl ethtool || return 1
	DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
	[ -x "$DNSMASQ" ] || { LAB_SKIP_REASON="dnsmasq not installed (Debian: dnsmasq-base)"; return 1; }
	perl -MMaxMind::DB::Writer::Tree -e 1 >/dev/null 2>&1 ||
		{ LAB_SKIP_REASON="libmaxmind-db-writer-perl not installed"; return 1; }
	if ! nsx "$NS_R" iptables -A FORWARD -m string --algo bm --string x -j ACCEPT >/dev/null 2>&1; then
		LAB_SKIP_REASON="iptables string match unavailable"
		return 1
	fi
	nsx "$NS_R" iptables -F FORWARD
}

build_net() {
	local ns net name
	ip netns add "$NS_C" && NAMESPACES+=("$NS_C") && ip netns add "$NS_S" && NAMESPACES+=("$NS_S") || return 1
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
		ip -n "$ns" link set lo up || return 1
	done
	ip -n "$NS_C" link add c0 type veth peer name r0 netns "$NS_R" &&
		ip -n "$NS_R" link add r1 type veth peer name s0 netns "$NS_S" || return 1
	lab_no_offload "$NS_C" c0 && lab_no_offload "$NS_R" r0 && lab_no_offload "$NS_R" r1 &&
		lab_no_offload "$NS_S" s0 || return 1
	for net in "${!NET_IP[@]}"; do
		lab_addr_ok "${NET_IP[$net]}" || return 1
		ip -n "$NS_C" addr add "${NET_IP[$net]}/24" dev c0 && ip -n "$NS_R" addr add "${NET_IP[$net]%.10}.1/24" dev r0 ||
			return 1
	done
	ip -n "$NS_C" link set c0 up && ip -n "$NS_R" link set r0 up && ip -n "$NS_R" link set r1 up || return 1
	ip -n "$NS_R" addr add 198.19.0.1/24 dev r1 && ip -n "$NS_S" addr add 198.19.0.2/24 dev s0 &&
		ip -n "$NS_S" link set s0 up || return 1
	for ip in "$HONEST" "$ISP" "$BLOCKPAGE" "${SERVER_IP[@]}"; do
		lab_addr_ok "$ip" && ip -n "$NS_S" addr add "$ip/32" dev lo || return 1
	done
	ip -n "$NS_C" route add 198.19.0.0/16 via 198.18.30.1 dev c0 &&
		ip -n "$NS_R" route add 198.19.5.0/24 via 198.19.0.2 dev r1 &&
		ip -n "$NS_R" route add 198.19.6.0/24 via 198.19.0.2 dev r1 &&
		ip -n "$NS_S" route add 198.18.0.0/16 via 198.19.0.1 dev s0 || return 1
	nsx "$NS_R" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
}

# ---- servers ---------------------------------------------------------------------------------------------------------

start_resolvers() {
	local name args_h=() args_i=()
	for name in "${!SERVER_IP[@]}"; do
		args_h+=("--address=/$name/${SERVER_IP[$name]}")
		case " $ISP_BLOCKED " in
		*" $name "*) args_i+=("--address=/$name/$BLOCKPAGE") ;;
		*) args_i+=("--address=/$name/${SERVER_IP[$name]}") ;;
		esac
	done
	# No upstream, no hosts file; names under example that are not listed do not exist (NXDOMAIN).
	nsx "$NS_S" "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --user=root \
		--pid-file= --listen-address="$HONEST" --bind-interfaces --local=/example/ --local-ttl=300 \
		"${args_h[@]}" </dev/null >"$LAB_WORK/dns-honest.log" 2>&1 &
	nsx "$NS_S" "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --user=root \
		--pid-file= --listen-address="$ISP" --bind-interfaces --local=/example/ --local-ttl=300 \
		"${args_i[@]}" </dev/null >"$LAB_WORK/dns-isp.log" 2>&1 &
}

write_responder() {
	cat >"$LAB_WORK/reply.sh" <<'EOS'
#!/bin/sh
# Read the request head first so the server never closes with unread data (the kernel would send a RST).
cr=$(printf '\r')
while IFS= read -r line; do
	case "$line" in "" | "$cr") break ;; esac
done
if [ "$SOCAT_SOCKADDR" = 198.19.5.80 ]; then
	body='<html><head><title>Blocked by the lab ISP</title></head><body>This site is blocked.</body></html>'
else
	body="tamperscope lab: $SOCAT_SOCKADDR ok"
fi
printf 'HTTP/1.1 200 OK\r\nServer: lab\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
	"${#body}" "$body"
EOS
}

start_web() {
	local d=$LAB_WORK/pki n
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/bp.key" -out "$d/bp.crt" \
		-days 30 -subj "/CN=blockpage.lab" >/dev/null 2>&1 || return 1
	nsx "$NS_S" socat TCP-LISTEN:80,reuseaddr,fork SYSTEM:"sh $LAB_WORK/reply.sh" </dev/null >"$LAB_WORK/web.log" 2>&1 &
	nsx "$NS_S" socat "OPENSSL-LISTEN:443,bind=$BLOCKPAGE,reuseaddr,fork,cert=$d/bp.crt,key=$d/bp.key,verify=0" \
		SYSTEM:"sh $LAB_WORK/reply.sh" </dev/null >"$LAB_WORK/tls.log" 2>&1 &
	for n in $(seq 50); do
		[ "$(nsx "$NS_S" ss -Hltnu | wc -l)" -ge 4 ] && return 0
		sleep 0.1
	done
	log "servers did not start: $(nsx "$NS_S" ss -Hltnu | tr '\n' ' ')"
	return 1
}

# ---- the censor ------------------------------------------------------------------------------------------------------

start_censor() {
	local inj=198.18.32.0/24 n
	# The injector decides the fate of net-inj's DNS queries and of the HTTP requests it forges answers to.
	nsx "$NS_R" iptables -A FORWARD -i r0 -s "$inj" -p udp --dport 53 -j DROP &&
		nsx "$NS_R" iptables -A FORWARD -i r0 -s "$inj" -p tcp --dport 80 -m string --algo bm \
			--string "Host: video.example" -j DROP &&
		nsx "$NS_R" iptables -A FORWARD -i r0 -s "$inj" -p tcp --dport 80 -m string --algo bm \
			--string "Host: forum.example" -j DROP &&
		nsx "$NS_R" iptables -A FORWARD -i r0 -s "$inj" -p tcp --dport 80 -m string --algo bm \
			--string "Host: reset.example" -j REJECT --reject-with tcp-reset &&
		nsx "$NS_R" iptables -A FORWARD -i r0 -s "$inj" -p tcp --dport 80 -m string --algo bm \
			--string "Host: stall.example" -j DROP &&
		nsx "$NS_R" iptables -A FORWARD -i r0 -s "$inj" -d "${SERVER_IP[ipblocked.example]}" -p tcp --syn -j DROP ||
		return 1
	ip netns exec "$NS_R" python3 "$LAB_HERE/injector.py" --iface r0 --censored "$inj" --forged-addr "$FORGED" \
		--location "http://$BLOCKPAGE/blocked" --inject news.example --drop slow.example \
		--block302 video.example --race302 forum.example --seconds 600 </dev/null >"$LAB_WORK/injector.log" 2>&1 &
	for n in $(seq 50); do
		grep -q ready "$LAB_WORK/injector.log" 2>/dev/null && return 0
		sleep 0.1
	done
	log "injector did not start: $(head -3 "$LAB_WORK/injector.log")"
	return 1
}

# ---- transactions and flows -----------------------------------------------------------------------------------------

next_port() {
	local net=$1
	NET_PORT[$net]=$((NET_PORT[$net] + 1))
}

# query NET NAME VERDICT WANT NOTE: dig from the network's resolver; WANT is the address dig must print first,
# "NXDOMAIN", or "timeout".
query() {
	local net=$1 name=$2 verdict=$3 want=$4 note=$5 caddr=${NET_IP[$1]} res=${NET_RESOLVER[$1]} out rc
	next_port "$net"
	local port=${NET_PORT[$net]}
	TRUTH+=("$caddr:$port	$res:53	-	$verdict	$net	dig $name: $note")
	out=$(nsx "$NS_C" dig -b "$caddr#$port" "@$res" "$name" A +tries=1 +time=5 +noedns +nocookie 2>&1)
	rc=$?
	case "$want" in
	timeout) [ "$rc" = 9 ] || ERRORS+=("dig $net $name: want a timeout, dig exited $rc") ;;
	NXDOMAIN) grep -q 'status: NXDOMAIN' <<<"$out" || ERRORS+=("dig $net $name: want NXDOMAIN") ;;
	*) [ "$(awk '/ANSWER SECTION/ { getline; print $5; exit }' <<<"$out")" = "$want" ] ||
		ERRORS+=("dig $net $name: want $want first, got: $(grep -A1 'ANSWER SECTION' <<<"$out" | tail -1)") ;;
	esac
}

# fetch NET SCHEME NAME ADDR VERDICT WANT NOTE: curl to ADDR; WANT is curl's exit status.
fetch() {
	local net=$1 scheme=$2 name=$3 addr=$4 verdict=$5 want=$6 note=$7 caddr=${NET_IP[$1]} sni=- port rc sport=80
	next_port "$net"
	port=${NET_PORT[$net]}
	[ "$scheme" = https ] && sport=443
	[ "$scheme" = https ] && [ "$verdict" != syn_timeout ] && sni=$name
	lab_addr_ok "$addr" || { ERRORS+=("address outside the lab: $addr"); return; }
	TRUTH+=("$caddr:$port	$addr:$sport	$sni	$verdict	$net	curl $scheme://$name/: $note")
	# TLS 1.2: the certificate is in clear, so the capture shows whose it is.
	nsx "$NS_C" curl -q -sS -o /dev/null --noproxy '*' --max-time 5 --interface "$caddr" --local-port "$port" \
		--resolve "$name:$sport:$addr" --cacert "$LAB_WORK/pki/bp.crt" --tls-max 1.2 "$scheme://$name/" \
		2>"$LAB_WORK/curl.$port.err"
	rc=$?
	[ "$rc" = "$want" ] || ERRORS+=("curl $net $scheme://$name ($port): exit $rc, want $want: $(head -c 160 "$LAB_WORK/curl.$port.err")")
	sleep 0.2
}

scenarios() {
	local i
	# The control network first: every name resolves to its genuine address and every page loads.
	query net-ctl news.example ok 198.19.6.1 "genuine answer"
	query net-ctl blog.example ok 198.19.6.8 "genuine answer"
	query net-ctl shop.example ok 198.19.6.2 "genuine answer"
	query net-ctl nx.example dns_error NXDOMAIN "a name that does not exist (a failure, not interference)"
	query net-ctl ipblocked.example ok 198.19.6.9 "genuine answer"
	fetch net-ctl http news.example 198.19.6.1 ok 0 "genuine page"
	fetch net-ctl http video.example 198.19.6.7 ok 0 "genuine page"
	fetch net-ctl http forum.example 198.19.6.5 ok 0 "genuine page"
	fetch net-ctl http reset.example 198.19.6.3 ok 0 "genuine page"
	fetch net-ctl http stall.example 198.19.6.4 ok 0 "genuine page"
	fetch net-ctl http blog.example 198.19.6.8 ok 0 "genuine page"
	# The ISP resolver's block page.
	for i in 1 2 3; do
		query net-isp news.example dns_blockpage "$BLOCKPAGE" "the ISP resolver answers the blockpage address"
	done
	query net-isp shop.example ok 198.19.6.2 "not blocked"
	for i in 1 2 3; do
		fetch net-isp http blog.example "$BLOCKPAGE" http_blockpage 0 "the address the ISP resolver gave serves a block page"
	done
	fetch net-isp http shop.example 198.19.6.2 ok 0 "not blocked"
	fetch net-isp https news.example "$BLOCKPAGE" tls_untrusted_cert 60 \
		"the blockpage server's certificate (for another name): DNS manipulation, not interception"
	# On the path.
	for i in 1 2 3; do
		query net-inj news.example dns_injection "$FORGED" "forged answer first, the resolver's own after it"
	done
	for i in 1 2 3; do
		query net-inj slow.example dns_timeout timeout "query dropped; the resolver answers others"
	done
	query net-inj shop.example ok 198.19.6.2 "not censored"
	query net-inj ipblocked.example ok 198.19.6.9 "genuine answer; the address is blocked at SYN"
	for i in 1 2 3; do
		fetch net-inj http video.example 198.19.6.7 http_blockpage 0 "forged 302 to the blockpage and a RST to the server"
		fetch net-inj http forum.example 198.19.6.5 http_blockpage 0 "forged 302 racing the server's own answer"
		fetch net-inj http reset.example 198.19.6.3 http_reset 56 "RST after the GET"
		fetch net-inj http stall.example 198.19.6.4 http_stall 28 "GET dropped"
	done
	fetch net-inj http shop.example 198.19.6.2 ok 0 "not censored"
	fetch net-inj https ipblocked.example 198.19.6.9 syn_timeout 28 "SYNs dropped; named by the DNS answer before"
}

check_capture() {
	local n
	n=$(tcpdump -nn -r "$LAB_WORK/cap.pcap" 2>/dev/null | wc -l)
	[ "$n" -gt 100 ] || ERRORS+=("capture holds only $n packets")
}

write_outputs() {
	local out=$1 line net
	printf '# %s-blockpages.tsv: the lab ISP'"'"'s blockpage (made by tests/lab/dnshttp.sh; format: tamperscope(1))\n%s\tZZ\tlab ISP resolver blockpage server\nbody:<title>Blocked by the lab ISP</title>\tZZ\tlab ISP block page\n' \
		"$LAB_NAME" "$BLOCKPAGE" >"$out/$LAB_NAME-blockpages.tsv"
	cp "$LAB_WORK/asn.mmdb" "$out/$LAB_NAME-asn.mmdb" && cp "$LAB_WORK/cap.pcap" "$out/$LAB_NAME.pcap" || return 1
	{
		echo "# $LAB_NAME: real-stack DNS and HTTP interference lab capture made by tests/lab/dnshttp.sh generate"
		echo "# capture point: router namespace, client-side interface (clients TTL 64, servers 63, router 64)"
		for net in net-ctl net-isp net-inj; do
			echo "# $net: ${NET_IP[$net]%.10}.0/24, AS${NET_ASN[$net]}, resolver ${NET_RESOLVER[$net]}"
		done
		echo "# DNS transactions: client = the dig socket, server = the resolver; sni '-' (the name is in dns.rrname)"
		echo "# args: --blockpages @PCAPDIR@/$LAB_NAME-blockpages.tsv --asn-db @PCAPDIR@/$LAB_NAME-asn.mmdb"
		printf 'client\tserver\tsni\tverdict\tnetwork\tnote\n'
		for line in "${TRUTH[@]}"; do
			printf '%s\n' "$line"
		done
	} >"$out/$LAB_NAME.truth"
}

generate() {
	local outdir=$1 e
	preflight || return 2
	mkdir -p "$outdir" || return 1
	LAB_WORK=$(mktemp -d /tmp/tsdns.XXXXXX) || return 1
	build_net || { log "building the namespaces failed"; return 1; }
	write_responder
	lab_asn_db "$LAB_WORK/asn.mmdb" 198.19.0.0/16 64530 || { log "writing the ASN database failed"; return 1; }
	start_resolvers && start_web && start_censor && lab_start_capture 'tcp or udp port 53' || return 1
	scenarios
	sleep 6          # past the stall timeout: the last transactions' windows close inside the capture
	lab_stop_capture
	lab_teardown
	check_capture
	if [ "${#ERRORS[@]}" -gt 0 ]; then
		for e in "${ERRORS[@]}"; do
			log "$e"
		done
		log "not writing $outdir/$LAB_NAME.*: the lab did not behave as its truth says"
		return 1
	fi
	write_outputs "$outdir" || return 1
	log "wrote $outdir/$LAB_NAME.pcap ($(wc -c <"$outdir/$LAB_NAME.pcap") bytes, ${#TRUTH[@]} transactions and flows)"
}

pass_if() { if [ "$1" = 0 ]; then echo "PASS: lab-dnshttp: $2"; else echo "FAIL: lab-dnshttp: $2"; fi; }

# What DNS answers say of other flows: the SYN-blocked flow is named by the answer before it, and the blockpage
# server's certificate is DNS manipulation (other networks are given another address for news.example).
check_links() {
	local e=$1
	jq -s -e '[.[] | select(.src_ip == "198.18.32.10" and .verdict == "syn_timeout")] | length == 1 and
		all(.evidence.name_from_dns == "ipblocked.example")' "$e" >/dev/null
	pass_if $? "the SYN-blocked flow without SNI is named by the DNS answer before it (name_from_dns)"
	jq -s -e '[.[] | select(.verdict == "tls_untrusted_cert")] | length == 1 and
		all(.evidence.mitm_cause == "dns_manipulation")' "$e" >/dev/null
	pass_if $? "the blockpage server's certificate is DNS manipulation, not interception (mitm_cause)"
	jq -s -e '[.[] | select(.verdict == "dns_injection")] | length == 3 and
		all(.dns.answers_seen == 2 and .dns.responses[0].forged and (.dns.responses[1].forged | not) and
		    .dns.responses[0].ip_ttl != .dns.responses[1].ip_ttl)' "$e" >/dev/null
	pass_if $? "every injected answer is listed first with its own IP TTL, the resolver's after it"
	jq -s -e '[.[] | select(.http.hostname == "forum.example" and .verdict == "http_blockpage")] | length == 3 and
		all(.evidence.injected_reasons | index("race"))' "$e" >/dev/null
	pass_if $? "the forged 302 racing the server's own answer carries the race evidence"
	jq -s -e '[.[] | select(.src_ip == "198.18.30.10")] | all(.verdict == "ok" or .verdict == "dns_error")' \
		"$e" >/dev/null
	pass_if $? "control network: nothing but ok (and one NXDOMAIN for a name that does not exist)"
}

# The report: exactly these (network, name, method) pairs blocked.
check_report() {
	local dir=$1 ts=$2 got want
	# shellcheck disable=SC2046
	"$ts" -q -r "$dir/$LAB_NAME.pcap" $(sed -n 's/^# args: //p' "$dir/$LAB_NAME.truth" | sed "s|@PCAPDIR@|$dir|g") \
		--report-json "$dir/report.json" --events "$dir/events.json" 2>/dev/null
	check_links "$dir/events.json"
	got=$(jq -r '.by_domain_network[] | select(.conclusion.blocked) | "AS\(.asn) \(.domain) \(.conclusion.method)"' \
		"$dir/report.json" | sort | tr '\n' ';')
	want="AS64521 blog.example http_blockpage;AS64521 news.example dns_blockpage;AS64522 forum.example http_blockpage;"
	want+="AS64522 news.example dns_injection;AS64522 reset.example http_reset;AS64522 slow.example dns_timeout;"
	want+="AS64522 stall.example http_stall;AS64522 video.example http_blockpage;"
	jq -e '[.by_domain_network[] | select(.asn == 64521 and .domain == "news.example")][0] |
		.mitm_dns_manipulation == 1 and (.mitm_interception // 0) == 0' "$dir/report.json" >/dev/null
	pass_if $? "the report states the blockpage certificate as DNS manipulation (AS64521 news.example)"
	if [ "$got" = "$want" ]; then
		echo "PASS: lab-dnshttp: report blocks exactly the censored names per network with their methods"
	else
		echo "FAIL: lab-dnshttp: report conclusions: want $want got $got"
	fi
}

# The flows' truths, then the report's conclusions.
check() {
	lab_check_truth "$1" "$2" | sed 's/^\(PASS\|FAIL\): /\1: lab-dnshttp: /'
	check_report "$1" "$2"
}

lab_main generate check "$@"

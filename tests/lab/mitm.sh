#!/bin/bash
# mitm.sh - real-stack TLS interception lab: real TLS servers and curl clients in network namespaces, and in the
# router namespace an interception proxy (socat OPENSSL-LISTEN with a forged chain, capped at TLS 1.2, relaying to
# the real server) that iptables REDIRECT puts in the path for some client networks; tcpdump on the router's
# client-side interface; writes the capture, its truth file and what analysing it needs.
#
# Usage:
#   mitm.sh generate OUTDIR  build the lab, run every flow, write into OUTDIR:
#                              lab-mitm.pcap        the capture
#                              lab-mitm.truth       one line per flow (format of tests/lab/lab.sh, plus the
#                                                   interception_ca and match columns)
#                              lab-mitm-ca.pem      the lab root the genuine servers chain to (--ca-bundle)
#                              lab-mitm-cas.tsv     the lab's fingerprint-listed interception CA (--interception-cas)
#                              lab-mitm-asn.mmdb    the client networks' ASNs (--asn-db)
#   mitm.sh check BUILDDIR   generate into a temporary directory, analyse it with BUILDDIR/src/tamperscope and
#                            compare every flow with the truth; one PASS/FAIL line per flow and per global check
#
# Client networks (one client namespace, one address per network):
#   net-ctl  198.18.20.0/24 AS64500  no interception (the control: every name validates here)
#   net-kz1  198.18.21.0/24 AS64501  forged by "ISCA lab A": C=KZ, O=ISCA, CN=Information Security Certification
#                                    Authority imitation, listed by fingerprint in lab-mitm-cas.tsv (lab-isca-a);
#                                    forged leaves: RSA-2048 exponent 3, no SAN/keyUsage/AKI, whole-hour 75-day
#                                    validity; 75-day intermediate
#   net-kz2  198.18.22.0/24 AS64502  forged by "ISCA lab B": same names, fingerprints unknown: matched by name only
#                                    (kz-isca from data/interception-cas.tsv); leaf dates = the genuine ones - 6 h
#   net-corp 198.18.23.0/24 AS64503  forged by a generic "Corporate TLS Inspection CA" in no list: only the
#                                    cross-network consistency (end of run) calls it MITM
# news.example and bank.example are intercepted on net-kz1/kz2/corp; control.example never; selfsigned.example is
# self-signed and seen unchanged from every network (the false-positive control: tls_untrusted_cert, never MITM).
# Some clients trust the forged root (the handshake completes: still tls_mitm).
#
# Safety: every address lives in 198.18.0.0/15 inside namespaces this script creates, none has a default route;
# namespaces and their processes are removed on exit.  Not root or no namespaces: "SKIP: lab-mitm: why".

# shellcheck disable=SC2317  # the labs' steps are called through lab_main (netns.sh) and the EXIT trap
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
LAB_HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/netns.sh
. "$LAB_HERE/netns.sh"
LAB_ROOT=$(cd "$LAB_HERE/../.." && pwd)
LAB_NAME=lab-mitm
LAB_TAG=lab-mitm

NS_C="tsmitm-$$-client"
NS_R="tsmitm-$$-router"
NS_S="tsmitm-$$-server"
NAMESPACES=()
LAB_WORK=""
LAB_TMPOUT=""
CAP_PID=""
LAB_SKIP_REASON=""
ERRORS=()
TRUTH=()

declare -A NET_IP=([net-ctl]=198.18.20.10 [net-kz1]=198.18.21.10 [net-kz2]=198.18.22.10 [net-corp]=198.18.23.10)
declare -A NET_ASN=([net-ctl]=64500 [net-kz1]=64501 [net-kz2]=64502 [net-corp]=64503)
declare -A NET_PORT=([net-ctl]=45000 [net-kz1]=46000 [net-kz2]=47000 [net-corp]=48000)
declare -A SERVER_IP=([news.example]=198.19.3.1 [bank.example]=198.19.3.2 [control.example]=198.19.3.3
	[selfsigned.example]=198.19.3.4)
INTERCEPTED="news.example bank.example"
# Interceptors: network -> forging CA name; proxy port = base + index of the name in INTERCEPTED.
declare -A NET_FORGER=([net-kz1]=isca-a [net-kz2]=isca-b [net-corp]=corp)
declare -A FORGER_PORT=([isca-a]=8410 [isca-b]=8420 [corp]=8430)

log() { printf 'lab-mitm: %s\n' "$*" >&2; }

preflight() {
	lab_need_base ip iptables tcpdump curl openssl socat perl ethtool || return 1
	if ! perl -MMaxMind::DB::Writer::Tree -e 1 >/dev/null 2>&1; then
		LAB_SKIP_REASON="libmaxmind-db-writer-perl not installed (needed for the lab's ASN database)"
		return 1
	fi
	if ! socat -hhh 2>/dev/null | grep -q openssl-max-proto-version; then
		LAB_SKIP_REASON="socat lacks openssl-max-proto-version"
		return 1
	fi
	if ! nsx "$NS_R" iptables -t nat -A PREROUTING -p tcp --dport 443 -j REDIRECT --to-ports 8410 >/dev/null 2>&1; then
		LAB_SKIP_REASON="iptables nat REDIRECT unavailable"
		return 1
	fi
	nsx "$NS_R" iptables -t nat -F PREROUTING >/dev/null 2>&1
}

build_net() {
	local ns name net i=20
	ip netns add "$NS_C" || return 1
	NAMESPACES+=("$NS_C")
	ip netns add "$NS_S" || return 1
	NAMESPACES+=("$NS_S")
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
		ip -n "$ns" link set lo up || return 1
	done
	ip -n "$NS_C" link add c0 type veth peer name r0 netns "$NS_R" || return 1
	ip -n "$NS_R" link add r1 type veth peer name s0 netns "$NS_S" || return 1
	lab_no_offload "$NS_C" c0 && lab_no_offload "$NS_R" r0 &&
		lab_no_offload "$NS_R" r1 && lab_no_offload "$NS_S" s0 || return 1
	for net in "${!NET_IP[@]}"; do
		lab_addr_ok "${NET_IP[$net]}" || return 1
		ip -n "$NS_C" addr add "${NET_IP[$net]}/24" dev c0 || return 1
		ip -n "$NS_R" addr add "${NET_IP[$net]%.10}.1/24" dev r0 || return 1
	done
	ip -n "$NS_C" link set c0 up && ip -n "$NS_R" link set r0 up && ip -n "$NS_R" link set r1 up || return 1
	ip -n "$NS_R" addr add 198.19.0.1/24 dev r1 && ip -n "$NS_S" addr add 198.19.0.2/24 dev s0 &&
		ip -n "$NS_S" link set s0 up || return 1
	for name in "${!SERVER_IP[@]}"; do
		ip -n "$NS_S" addr add "${SERVER_IP[$name]}/32" dev lo || return 1
	done
	ip -n "$NS_C" route add 198.19.0.0/16 via 198.18.20.1 dev c0 &&
		ip -n "$NS_R" route add 198.19.3.0/24 via 198.19.0.2 dev r1 &&
		ip -n "$NS_S" route add 198.18.0.0/16 via 198.19.0.1 dev s0 || return 1
	nsx "$NS_R" sysctl -qw net.ipv4.ip_forward=1 >/dev/null || return 1
	nsx "$NS_C" ping -c1 -W1 -I 198.18.20.10 198.19.0.2 >/dev/null 2>&1 || true
}

# ---- certificates ---------------------------------------------------------------------------------------------------

q() { "$@" >/dev/null 2>&1; }

ec_key() { q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1"; }

# self_root KEY OUT SUBJECT DAYS
self_root() {
	q openssl req -x509 -new -key "$1" -out "$2" -days "$4" -subj "$3" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# sign_ca KEY OUT SUBJECT ISSUER_PEM ISSUER_KEY DAYS
sign_ca() {
	local d=$LAB_WORK/pki
	q openssl req -new -key "$1" -subj "$3" -out "$d/tmp.csr" || return 1
	printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$d/ca.ext"
	q openssl x509 -req -in "$d/tmp.csr" -CA "$4" -CAkey "$5" -CAcreateserial -days "$6" -extfile "$d/ca.ext" -out "$2"
}

# sign_leaf KEY OUT NAME ISSUER_PEM ISSUER_KEY DAYS: an ordinary server certificate.
sign_leaf() {
	local d=$LAB_WORK/pki
	q openssl req -new -key "$1" -subj "/CN=$3" -out "$d/tmp.csr" || return 1
	printf 'subjectAltName=DNS:%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
		"$3" >"$d/leaf.ext"
	q openssl x509 -req -in "$d/tmp.csr" -CA "$4" -CAkey "$5" -CAcreateserial -days "$6" -extfile "$d/leaf.ext" -out "$2"
}

# forge_leaf KEY OUT NAME ISSUER_PEM ISSUER_KEY START END EXTSECTION: exact dates and extensions, as a forging
# box writes them (openssl ca, which takes -startdate/-enddate).
forge_leaf() {
	local d=$LAB_WORK/pki
	q openssl req -new -key "$1" -subj "/CN=$3" -out "$d/tmp.csr" || return 1
	SAN="DNS:$3" openssl ca -batch -config "$d/forge.cnf" -name forge -cert "$4" -keyfile "$5" -in "$d/tmp.csr" \
		-out "$2" -startdate "$6" -enddate "$7" -extensions "$8" -notext >/dev/null 2>&1
}

write_forge_cnf() {
	local d=$LAB_WORK/pki
	mkdir -p "$d/newcerts" && : >"$d/index.txt" && echo 1000 >"$d/serial" || return 1
	cat >"$d/forge.cnf" <<EOF
[ca]
default_ca = forge
[forge]
database = $d/index.txt
new_certs_dir = $d/newcerts
serial = $d/serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
email_in_dn = no
[pol]
commonName = supplied
[stripped]
basicConstraints = CA:FALSE
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[ordinary]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = \$ENV::SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

utc() { date -u -d "@$1" +%Y%m%d%H%M%SZ; }

# The genuine PKI: lab root -> issuing CA -> one leaf per name; a self-signed server.
make_genuine() {
	local d=$LAB_WORK/pki name
	ec_key "$d/root.key" && self_root "$d/root.key" "$d/labca.pem" "/O=tamperscope lab/CN=tamperscope mitm-lab root" 3650 &&
		ec_key "$d/issuing.key" &&
		sign_ca "$d/issuing.key" "$d/issuing.pem" "/O=tamperscope lab/CN=tamperscope mitm-lab issuing CA" \
			"$d/labca.pem" "$d/root.key" 1825 || return 1
	for name in news.example bank.example control.example; do
		ec_key "$d/$name.key" && sign_leaf "$d/$name.key" "$d/$name.crt" "$name" "$d/issuing.pem" "$d/issuing.key" 90 &&
			cat "$d/$name.crt" "$d/issuing.pem" >"$d/$name.chain" || return 1
	done
	ec_key "$d/selfsigned.example.key" &&
		q openssl req -x509 -new -key "$d/selfsigned.example.key" -out "$d/selfsigned.example.chain" -days 365 \
			-subj "/CN=selfsigned.example" -addext subjectAltName=DNS:selfsigned.example
}

# Whole hours, never midnight: the pattern of a box that rounds "now" down to the hour.
hour_start() {
	local t=$(($(date -u +%s) / 3600 * 3600 - 2 * 3600))
	[ "$(date -u -d "@$t" +%H)" = 00 ] && t=$((t - 3600))
	echo "$t"
}

make_forgers() {
	local d=$LAB_WORK/pki name s e nb na
	write_forge_cnf || return 1
	# ISCA lab A: RSA root, 75-day intermediate, stripped RSA-2048 e=3 leaves with whole-hour 75-day validity.
	q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/isca-a-root.key" &&
		self_root "$d/isca-a-root.key" "$d/isca-a-root.pem" \
			"/C=KZ/O=ISCA/CN=Information Security Certification Authority" 7300 &&
		ec_key "$d/isca-a-int.key" &&
		sign_ca "$d/isca-a-int.key" "$d/isca-a-int.pem" \
			"/C=KZ/O=ISCA/OU=lab intermediate A/CN=Information Security Certification Authority" \
			"$d/isca-a-root.pem" "$d/isca-a-root.key" 75 &&
		q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 \
			-out "$d/isca-a-leaf.key" || return 1
	s=$(hour_start)
	e=$((s + 75 * 86400))
	for name in $INTERCEPTED; do
		forge_leaf "$d/isca-a-leaf.key" "$d/isca-a-$name.crt" "$name" "$d/isca-a-int.pem" "$d/isca-a-int.key" \
			"$(utc "$s")" "$(utc "$e")" stripped &&
			cat "$d/isca-a-$name.crt" "$d/isca-a-int.pem" >"$d/isca-a-$name.chain" || return 1
	done
	# ISCA lab B: EC, ordinary-looking leaves whose dates are the genuine ones moved six hours back (a time-zone
	# slip; back rather than forward so that clients trusting the forged root accept them at once).
	ec_key "$d/isca-b-root.key" &&
		self_root "$d/isca-b-root.key" "$d/isca-b-root.pem" \
			"/C=KZ/O=ISCA/CN=Information Security Certification Authority" 7300 &&
		ec_key "$d/isca-b-int.key" &&
		sign_ca "$d/isca-b-int.key" "$d/isca-b-int.pem" \
			"/C=KZ/O=ISCA/OU=lab intermediate B/CN=Information Security Certification Authority" \
			"$d/isca-b-root.pem" "$d/isca-b-root.key" 75 && ec_key "$d/isca-b-leaf.key" || return 1
	for name in $INTERCEPTED; do
		nb=$(date -u -d "$(openssl x509 -in "$d/$name.crt" -noout -startdate | cut -d= -f2)" +%s)
		na=$(date -u -d "$(openssl x509 -in "$d/$name.crt" -noout -enddate | cut -d= -f2)" +%s)
		forge_leaf "$d/isca-b-leaf.key" "$d/isca-b-$name.crt" "$name" "$d/isca-b-int.pem" "$d/isca-b-int.key" \
			"$(utc $((nb - 6 * 3600)))" "$(utc $((na - 6 * 3600)))" ordinary &&
			cat "$d/isca-b-$name.crt" "$d/isca-b-int.pem" >"$d/isca-b-$name.chain" || return 1
	done
	# A generic corporate inspection CA: root signs the leaves directly.
	ec_key "$d/corp-root.key" &&
		self_root "$d/corp-root.key" "$d/corp-root.pem" "/O=Example Corp/CN=Corporate TLS Inspection CA" 3650 &&
		ec_key "$d/corp-leaf.key" || return 1
	for name in $INTERCEPTED; do
		sign_leaf "$d/corp-leaf.key" "$d/corp-$name.crt" "$name" "$d/corp-root.pem" "$d/corp-root.key" 30 &&
			cp "$d/corp-$name.crt" "$d/corp-$name.chain" || return 1
	done
}

fingerprint() { openssl x509 -in "$1" -outform DER | openssl dgst "-$2" -r | cut -d' ' -f1; }

write_cas_tsv() {
	local d=$LAB_WORK/pki int=$LAB_WORK/pki/isca-a-int.pem spki
	spki=$(openssl x509 -in "$int" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
	{
		echo "# $LAB_NAME-cas.tsv: the mitm lab's fingerprint-listed interception CA (made with the capture by"
		echo "# tests/lab/mitm.sh generate; format: tamperscope(1), INTERCEPTION-CA FILE). ISCA lab B and the"
		echo "# corporate CA are deliberately not listed."
		printf 'lab-isca-a\tfingerprint\t%s\t%s\t%s\t%s\n' "$(fingerprint "$int" sha1)" "$(fingerprint "$int" sha256)" \
			"$spki" "$(openssl x509 -in "$int" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
	} >"$d/cas.tsv"
}

# ---- servers and the interceptor -----------------------------------------------------------------------------------

write_responder() {
	cat >"$LAB_WORK/reply.sh" <<'EOF'
#!/bin/sh
# Read the request head first so the server never closes with unread data (that would make the kernel send a RST).
cr=$(printf '\r')
while IFS= read -r line; do
	case "$line" in "" | "$cr") break ;; esac
done
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\ntamperscope lab: ok\n'
EOF
}

wait_listen() {
	local ns=$1 want=$2 n
	for n in $(seq 50); do
		[ "$(nsx "$ns" ss -Hltn | wc -l)" -ge "$want" ] && return 0
		sleep 0.1
	done
	log "listeners did not start in $ns"
	return 1
}

start_servers() {
	local name ip d=$LAB_WORK/pki
	for name in "${!SERVER_IP[@]}"; do
		ip=${SERVER_IP[$name]}
		lab_addr_ok "$ip" || return 1
		nsx "$NS_S" socat "OPENSSL-LISTEN:443,bind=$ip,reuseaddr,fork,cert=$d/$name.chain,key=$d/$name.key,verify=0" \
			"SYSTEM:sh $LAB_WORK/reply.sh" </dev/null >"$LAB_WORK/srv-$name.log" 2>&1 &
	done
	wait_listen "$NS_S" "${#SERVER_IP[@]}"
}

# One proxy per (forger, name): the client sees the forged chain, capped at TLS 1.2; the proxy relays to the
# genuine server, as interception boxes do.
start_interceptors() {
	local net forger name i port n=0 d=$LAB_WORK/pki
	for net in "${!NET_FORGER[@]}"; do
		forger=${NET_FORGER[$net]}
		i=1
		for name in $INTERCEPTED; do
			port=$((FORGER_PORT[$forger] + i))
			i=$((i + 1))
			nsx "$NS_R" socat "OPENSSL-LISTEN:$port,reuseaddr,fork,cert=$d/$forger-$name.chain,key=$d/$forger-leaf.key,verify=0,openssl-max-proto-version=TLS1.2" \
				"OPENSSL:${SERVER_IP[$name]}:443,verify=0,snihost=$name" </dev/null >"$LAB_WORK/proxy-$forger-$name.log" 2>&1 &
			nsx "$NS_R" iptables -t nat -A PREROUTING -i r0 -s "${NET_IP[$net]%.10}.0/24" -d "${SERVER_IP[$name]}" \
				-p tcp --dport 443 -j REDIRECT --to-ports "$port" || return 1
			n=$((n + 1))
		done
	done
	wait_listen "$NS_R" "$n"
}

# ---- flows ---------------------------------------------------------------------------------------------------------

# flow NET NAME TLS TRUST VERDICT CA MATCH NOTE
#   TLS    1.2 (curl --tls-max 1.2), 1.3 (--tlsv1.3), def (curl's default: offers 1.3)
#   TRUST  lab (the genuine lab root: rejects forgeries, curl exit 60), forged (the forger's root: the handshake
#          completes), insecure (curl -k)
flow() {
	local net=$1 name=$2 ver=$3 trust=$4 verdict=$5 ca=$6 match=$7 note=$8
	local caddr=${NET_IP[$net]} sip=${SERVER_IP[$name]} port=$((NET_PORT[$net] + 1)) want=0 flags=()
	NET_PORT[$net]=$port
	lab_addr_ok "$caddr" && lab_addr_ok "$sip" || { ERRORS+=("address outside 198.18.0.0/15: $caddr $sip"); return; }
	case "$ver" in
	1.2) flags+=(--tlsv1.2 --tls-max 1.2) ;;
	1.3) flags+=(--tlsv1.3) ;;
	esac
	case "$trust" in
	lab) flags+=(--cacert "$LAB_WORK/pki/labca.pem") ;;
	forged) flags+=(--cacert "$LAB_WORK/pki/${NET_FORGER[$net]}-root.pem") ;;
	insecure) flags+=(-k) ;;
	esac
	# Without -k or the forger's root a forged or self-signed chain is refused by the client.
	if [ "$trust" = lab ] && { [ "$name" = selfsigned.example ] || [ "$match" != - ]; }; then
		want=60
	fi
	TRUTH+=("$caddr:$port	$sip:443	$name	$verdict	$net	$note, TLS $ver, client trusts $trust	$ca	$match")
	nsx "$NS_C" curl -q -sS -o /dev/null --noproxy '*' --max-time 10 --interface "$caddr" --local-port "$port" \
		--resolve "$name:443:$sip" "${flags[@]}" "https://$name/" 2>"$LAB_WORK/curl.$port.err"
	local rc=$?
	[ "$rc" = "$want" ] || ERRORS+=("flow $net $name ($port): curl exited $rc, expected $want: $(head -c 200 "$LAB_WORK/curl.$port.err")")
	sleep 0.2
}

scenarios() {
	local net
	# The control network first: every genuine chain validates here (and is remembered for the hints).
	flow net-ctl news.example 1.2 lab ok - - "control network, genuine chain"
	flow net-ctl news.example 1.2 lab ok - - "control network, genuine chain"
	flow net-ctl news.example def lab ok - - "control network, TLS 1.3 negotiated: certificate not visible"
	flow net-ctl bank.example 1.2 lab ok - - "control network, genuine chain"
	flow net-ctl bank.example 1.2 lab ok - - "control network, genuine chain"
	flow net-ctl control.example 1.2 lab ok - - "never intercepted"
	flow net-ctl control.example 1.3 lab ok - - "never intercepted, certificate not visible"
	# ISCA lab A, listed by fingerprint.
	flow net-kz1 news.example 1.2 lab tls_mitm lab-isca-a fingerprint "forged chain, client refuses it"
	flow net-kz1 news.example def lab tls_mitm lab-isca-a fingerprint "client offers TLS 1.3, the interceptor caps at 1.2"
	flow net-kz1 news.example 1.2 forged tls_mitm lab-isca-a fingerprint "forged chain, client trusts the forged root"
	flow net-kz1 bank.example 1.2 lab tls_mitm lab-isca-a fingerprint "forged chain, client refuses it"
	flow net-kz1 control.example 1.2 lab ok - - "not intercepted on this network"
	# ISCA lab B, recognisable by name only.
	flow net-kz2 news.example 1.2 lab tls_mitm kz-isca name "forged chain, ISCA names, unknown fingerprints"
	flow net-kz2 news.example 1.2 forged tls_mitm kz-isca name "forged chain, client trusts the forged root"
	flow net-kz2 bank.example 1.2 lab tls_mitm kz-isca name "forged chain, ISCA names, unknown fingerprints"
	flow net-kz2 control.example 1.3 lab ok - - "not intercepted on this network"
	# The corporate inspection CA: in no list; the same names validate on net-ctl.
	flow net-corp news.example 1.2 lab tls_mitm - inconsistent "forged by an unlisted CA; news.example validates on net-ctl"
	flow net-corp news.example 1.2 lab tls_mitm - inconsistent "forged by an unlisted CA; news.example validates on net-ctl"
	flow net-corp news.example 1.2 forged tls_mitm - inconsistent "client trusts the corporate root"
	flow net-corp bank.example 1.2 lab tls_mitm - inconsistent "forged by an unlisted CA; bank.example validates on net-ctl"
	flow net-corp bank.example 1.2 lab tls_mitm - inconsistent "forged by an unlisted CA; bank.example validates on net-ctl"
	flow net-corp control.example 1.2 lab ok - - "not intercepted on this network"
	# The false-positive control: the same self-signed server from every network.
	for net in net-ctl net-kz1 net-kz2 net-corp; do
		flow "$net" selfsigned.example 1.2 insecure tls_untrusted_cert - - "self-signed everywhere, client uses -k"
		flow "$net" selfsigned.example 1.2 lab tls_untrusted_cert - - "self-signed everywhere, client refuses it"
	done
}

check_capture() {
	local d
	d=$(lab_capture_diff "${TRUTH[@]}")
	[ -z "$d" ] || ERRORS+=("capture flows differ from truth: $d")
}

write_truth() {
	local out=$1 line net
	{
		echo "# $LAB_NAME: real-stack interception lab capture made by tests/lab/mitm.sh generate (regenerate: tests/lab/mitm.sh generate pcaps)"
		echo "# capture point: router namespace, client-side interface; the interceptor runs on the router (its TTL is 64, the real servers' 63)"
		for net in net-ctl net-kz1 net-kz2 net-corp; do
			echo "# $net: ${NET_IP[$net]%.10}.0/24, AS${NET_ASN[$net]}, forger: ${NET_FORGER[$net]:-none}"
		done
		echo "# trust anchor of the genuine servers: $LAB_NAME-ca.pem; lab interception-CA list: $LAB_NAME-cas.tsv; client ASNs: $LAB_NAME-asn.mmdb"
		echo "# the kz-isca name entries come from data/interception-cas.tsv (the analyser's built-in list must be found)"
		echo "# match 'inconsistent': the flow's own event says tls_untrusted_cert; the end-of-run tls_consistency event lists its flow_id"
		echo "# args: --ca-bundle @PCAPDIR@/$LAB_NAME-ca.pem --interception-cas @PCAPDIR@/$LAB_NAME-cas.tsv --asn-db @PCAPDIR@/$LAB_NAME-asn.mmdb"
		printf 'client\tserver\tsni\tverdict\tnetwork\tnote\tinterception_ca\tmatch\n'
		for line in "${TRUTH[@]}"; do
			printf '%s\n' "$line"
		done
	} >"$out"
}

generate() {
	local outdir=$1 e
	preflight || return 2
	mkdir -p "$outdir" || return 1
	LAB_WORK=$(mktemp -d /tmp/tsmitm.XXXXXX) || return 1
	mkdir -p "$LAB_WORK/pki"
	build_net || { log "building the namespaces failed"; return 1; }
	make_genuine && make_forgers && write_cas_tsv || { log "making the certificates failed"; return 1; }
	lab_asn_db "$LAB_WORK/asn.mmdb" 198.19.3.0/24 64510 || { log "writing the ASN database failed"; return 1; }
	write_responder
	start_servers && start_interceptors && lab_start_capture tcp || return 1
	scenarios
	sleep 1
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
	cp "$LAB_WORK/cap.pcap" "$outdir/$LAB_NAME.pcap" && cp "$LAB_WORK/pki/labca.pem" "$outdir/$LAB_NAME-ca.pem" &&
		cp "$LAB_WORK/pki/cas.tsv" "$outdir/$LAB_NAME-cas.tsv" && cp "$LAB_WORK/asn.mmdb" "$outdir/$LAB_NAME-asn.mmdb" &&
		write_truth "$outdir/$LAB_NAME.truth" || return 1
	log "wrote $outdir/$LAB_NAME.pcap ($(wc -c <"$outdir/$LAB_NAME.pcap") bytes, ${#TRUTH[@]} flows)"
}

# ---- analysis check ------------------------------------------------------------------------------------------------

# Every truth line against the events: the flow's own verdict, re-labelled tls_mitm when an end-of-run
# tls_consistency event lists its flow id; interception_ca and match likewise.
check_events() {
	local dir=$1 ts=$2 args events=$1/events.json fails=0
	args=$(sed -n 's/^# args: //p' "$dir/$LAB_NAME.truth" | sed "s|@PCAPDIR@|$dir|g")
	# shellcheck disable=SC2086
	if ! TAMPERSCOPE_DATADIR="$LAB_ROOT/data" "$ts" -q -r "$dir/$LAB_NAME.pcap" $args --events "$events" 2>"$dir/ts.err"; then
		echo "FAIL: lab-mitm: tamperscope failed: $(head -3 "$dir/ts.err" | tr '\n' ' ')"
		return 1
	fi
	jq -r -s '
		([.[] | select(.event_type == "tls_consistency" and .verdict == "tls_mitm") | .flow_ids[]] | map(tostring)) as $re
		| .[] | select(.event_type == "flow")
		| (.flow_id | tostring) as $id
		| [ "\(.src_ip):\(.src_port)", "\(.dest_ip):\(.dest_port)",
		    (if ($re | index($id)) then "tls_mitm" else .verdict end),
		    (.tls.interception_ca // "-"),
		    (if ($re | index($id)) then "inconsistent" else (.tls.match // "-") end) ] | @tsv' \
		"$events" >"$dir/got.tsv" || { echo "FAIL: lab-mitm: events are not valid JSON lines"; return 1; }
	awk -F'\t' -v OFS='\t' '
		NR == FNR { got[$1 "\t" $2] = $3 "\t" $4 "\t" $5; next }
		/^#/ || $1 == "client" { next }
		{
			want = $4 "\t" $7 "\t" $8; key = $1 "\t" $2
			if (!(key in got)) { print "FAIL: lab-mitm: " $1 " " $3 " (" $5 "): no event"; next }
			if (got[key] == want) print "PASS: lab-mitm: " $1 " " $3 " (" $5 "): " $4 " " $7 " " $8
			else print "FAIL: lab-mitm: " $1 " " $3 " (" $5 "): want " want ", got " got[key]
		}' "$dir/got.tsv" "$dir/$LAB_NAME.truth" | tr '\t' ' ' | tee "$dir/flows.out"
	grep -q '^FAIL' "$dir/flows.out" && fails=1
	# The false-positive controls, summed up: no control-network or self-signed flow called MITM.
	local fp
	fp=$(awk -F'\t' 'NR == FNR { v[$1] = $3; next } /^#/ || $1 == "client" { next }
		($5 == "net-ctl" || $3 == "selfsigned.example") && v[$1] == "tls_mitm" { n++ } END { print n + 0 }' \
		"$dir/got.tsv" "$dir/$LAB_NAME.truth")
	if [ "$fp" = 0 ]; then echo "PASS: lab-mitm: no control or self-signed flow called tls_mitm"; else echo "FAIL: lab-mitm: $fp control or self-signed flows called tls_mitm"; fails=1; fi
	return "$fails"
}

lab_main generate check_events "$@"

#!/bin/bash
# check-truth.sh - run tamperscope on a capture and compare every TCP and UDP flow event with the capture's truth file
#
# Usage: check-truth.sh PCAP TRUTH TAMPERSCOPE [extra tamperscope args...]
#
# Runs `TAMPERSCOPE -r PCAP --events - [truth args] [extra args]` and prints, per truth line (TCP flows and DNS
# transactions; a transaction's client is the querying socket, its server the resolver),
#   PASS: <pcap> <client> -> <server> <verdict>
#   FAIL: <pcap> <client> -> <server>: expected <verdict> got <verdict|missing>
# and one FAIL line per flow event that the truth does not list. Exit status 0 when every line passed.
#
# Truth file: tab-separated, '#' comments, first other line exactly the header
#   client<TAB>server<TAB>sni<TAB>verdict<TAB>network<TAB>note[<TAB>interception_ca<TAB>match]
# With the two optional columns the event's tls.interception_ca and tls.match are compared too ('-' = none), and
# a flow listed in an end-of-run tls_consistency event with verdict tls_mitm counts as tls_mitm / inconsistent.
# client and server are ADDR:PORT (IPv6 as [ADDR]:PORT); sni '-' means the event must carry no SNI (null/absent).
# A comment "# args: ..." appends its words to the tamperscope command; @PCAPDIR@ in them stands for the directory
# holding the capture (for files shipped beside it, such as a lab CA).

# Callers may run this with sh (dash): start again under bash, which the rest of the script needs.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
export LC_ALL=C

if [ $# -lt 3 ]; then
	echo "usage: $0 PCAP TRUTH TAMPERSCOPE [extra args...]" >&2
	exit 2
fi
pcap=$1
truth=$2
ts=$3
shift 3
name=$(basename "$pcap")
header=$'client\tserver\tsni\tverdict\tnetwork\tnote'

fail_all() {
	echo "FAIL: $name: $*"
	exit 1
}

[ -r "$pcap" ] || fail_all "capture not readable: $pcap"
[ -r "$truth" ] || fail_all "truth file not readable: $truth"
[ -x "$ts" ] || fail_all "tamperscope not executable: $ts"
command -v jq >/dev/null 2>&1 || fail_all "jq not installed"
pcapdir=$(cd "$(dirname "$pcap")" && pwd)

# Truth: the args comment, the header check, then one entry per flow.
declare -A want_verdict want_sni want_ca want_match
has_ca=0
truth_keys=()
truth_args=()
seen_header=0
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	line=${line%$'\r'}
	if [[ "$line" =~ ^#[[:space:]]*args:(.*)$ ]]; then
		read -r -a more <<<"${BASH_REMATCH[1]//@PCAPDIR@/$pcapdir}"
		truth_args+=("${more[@]}")
		continue
	fi
	case "$line" in
	"#"* | "") continue ;;
	esac
	if [ "$seen_header" = 0 ]; then
		if [ "$line" = "$header"$'\tinterception_ca\tmatch' ]; then
			has_ca=1
		elif [ "$line" != "$header" ]; then
			fail_all "truth file $truth: line $lineno is not the header"
		fi
		seen_header=1
		continue
	fi
	IFS=$'\t' read -r t_client t_server t_sni t_verdict _ _ t_ca t_match _ <<<"$line"
	if [ -z "${t_verdict:-}" ]; then
		fail_all "truth file $truth: line $lineno has fewer than 4 fields"
	fi
	key="$t_client $t_server"
	if [ -n "${want_verdict[$key]+x}" ]; then
		fail_all "truth file $truth: line $lineno repeats flow $t_client -> $t_server"
	fi
	want_verdict[$key]=$t_verdict
	want_sni[$key]=$t_sni
	want_ca[$key]=${t_ca:--}
	want_match[$key]=${t_match:--}
	truth_keys+=("$key")
done <"$truth"
[ "$seen_header" = 1 ] || fail_all "truth file $truth has no header"
[ "${#truth_keys[@]}" -gt 0 ] || fail_all "truth file $truth lists no flows"

# Events: one line "client server verdict sni" per TCP or UDP (QUIC) flow event.
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
"$ts" -r "$pcap" --events - "${truth_args[@]}" "$@" >"$work/events" 2>"$work/stderr"
rc=$?
if [ "$rc" != 0 ]; then
	fail_all "tamperscope exited with status $rc: $(head -c 300 "$work/stderr" | tr '\n' ' ')"
fi
# IPv6 endpoints are bracketed so "addr:port" stays unambiguous; a missing or null SNI becomes '-'.
if ! jq -r -s '
	([.[] | select(.event_type == "tls_consistency" and .verdict == "tls_mitm") | .flow_ids[]?]) as $re
	| .[] | select(.event_type == "flow" and (.proto == "TCP" or .proto == "UDP"))
	| def ep(ip; port): (if (ip | tostring | test(":")) then "[\(ip)]" else "\(ip)" end) + ":\(port)";
	  (.flow_id as $id | $re | index($id)) as $relabel
	| [ep(.src_ip; .src_port), ep(.dest_ip; .dest_port),
	   (if $relabel then "tls_mitm" else (.verdict // "null" | tostring) end),
	   (if .sni == null then "-" elif .sni == "" then "(empty)" else (.sni | tostring) end),
	   (.tls.interception_ca // "-"),
	   (if $relabel then "inconsistent" else (.tls.match // "-") end)]
	| join("\t")' <"$work/events" >"$work/flows" 2>"$work/jq.err"; then
	fail_all "events are not valid JSON lines: $(head -c 200 "$work/jq.err" | tr '\n' ' ')"
fi

declare -A got_verdict got_sni got_ca got_match
failed=0
while IFS=$'\t' read -r e_client e_server e_verdict e_sni e_ca e_match; do
	key="$e_client $e_server"
	if [ -n "${got_verdict[$key]+x}" ]; then
		echo "FAIL: $name $e_client -> $e_server: duplicate flow event (verdicts ${got_verdict[$key]}, $e_verdict)"
		failed=1
		continue
	fi
	got_verdict[$key]=$e_verdict
	got_sni[$key]=$e_sni
	got_ca[$key]=$e_ca
	got_match[$key]=$e_match
	if [ -z "${want_verdict[$key]+x}" ]; then
		echo "FAIL: $name $e_client -> $e_server: unexpected flow (verdict $e_verdict, sni $e_sni)"
		failed=1
	fi
done <"$work/flows"

for key in "${truth_keys[@]}"; do
	client=${key% *}
	server=${key#* }
	want=${want_verdict[$key]}
	if [ -z "${got_verdict[$key]+x}" ]; then
		echo "FAIL: $name $client -> $server: expected $want got missing"
		failed=1
		continue
	fi
	got=${got_verdict[$key]}
	msg=""
	[ "$got" = "$want" ] || msg="expected $want got $got"
	if [ "${got_sni[$key]}" != "${want_sni[$key]}" ]; then
		msg="${msg:+$msg; }expected sni ${want_sni[$key]} got ${got_sni[$key]}"
	fi
	if [ "$has_ca" = 1 ]; then
		[ "${got_ca[$key]}" = "${want_ca[$key]}" ] ||
			msg="${msg:+$msg; }expected interception_ca ${want_ca[$key]} got ${got_ca[$key]}"
		[ "${got_match[$key]}" = "${want_match[$key]}" ] ||
			msg="${msg:+$msg; }expected match ${want_match[$key]} got ${got_match[$key]}"
	fi
	if [ -n "$msg" ]; then
		echo "FAIL: $name $client -> $server: $msg"
		failed=1
	else
		echo "PASS: $name $client -> $server $want${has_ca:+}$([ "$has_ca" = 1 ] && echo " ${want_ca[$key]} ${want_match[$key]}")"
	fi
done
exit "$failed"

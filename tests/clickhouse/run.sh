#!/bin/bash
# tests/clickhouse/run.sh - many sensors, one ClickHouse: the rows of --events-format clickhouse,
# sql/clickhouse.sql and tools/tamperscope-ch-load against real servers (Debian's
# clickhouse-server, started here on free local ports with temporary directories, stopped at
# the end).
#
# Two sensors' captures come from the committed lab captures: lab-interference split by client
# network (s1 sees AS9198; s2 the rest, in two runs split by time) and lab-mitm split by
# network (s1: the control and corporate networks, whose end-of-run certificate consistency
# relabels flows; s2: the two ISCA networks); lab-quic split by network (s1: AS9198, whose QUIC
# stalls and TLS-over-TCP successes come in two runs split by time, so only the sum is QUIC-only;
# s2: the network blocked over both transports and the control), lab-dnshttp split by network
# (s1: the control and the ISP resolver's network; s2: the injecting one) and a crafted capture of
# the rules' cases the lab captures do not reach (tests/clickhouse/mkcases.py: DNS errors across
# networks, a tie, QUIC next to TCP at its edges; s1: AS9198, s2 the rest).  What must hold:
#   - rows written while the server is down arrive once it is back, each exactly once, also
#     when a loader died between an insert and noting it;
#   - tamperscope.blocked equals `tamperscope merge` of the sensors' reports, row for row (and
#     every network x name's counts, conclusion and timeline, every name's corroborating counts,
#     and by_network's counts), over every verdict of TLS over TCP, QUIC, DNS and HTTP, the QUIC
#     next to TCP rule and the dns_error cross-network rule;
#   - the same through a Distributed table over two local servers as two shards;
#   - a truncated line and a line from a newer schema are rejected with their line numbers while
#     the good rows load.
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
# every loader run is bounded: a loader that never gives up must not hang the suite
LOAD="timeout 120 sh $srcdir/tools/tamperscope-ch-load"
SQL=$srcdir/sql/clickhouse.sql
P=$srcdir/pcaps
pass() { echo "PASS: clickhouse: $1"; }
fail() { echo "FAIL: clickhouse: $1"; }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1"; fi; }

. "$srcdir/tests/clickhouse/chserver.sh"

# ---- without a server: the options and the rows' shape -------------------------------------
"$T" -r "$P/lab-mitm.pcap" --events-format clickhouse >/dev/null 2>&1
[ $? = 2 ]; check "--events-format clickhouse without --events is a usage error" $?
"$T" -r "$P/lab-mitm.pcap" --events /dev/null --events-format json >/dev/null 2>&1
[ $? = 2 ]; check "--events-format other than eve/clickhouse is a usage error" $?
"$T" -r "$P/lab-mitm.pcap" --events /dev/null --sensor-name "$(printf 'a\nb')" >/dev/null 2>&1
[ $? = 2 ]; check "a sensor name with a control character is a usage error" $?
rows=$(mktemp)
"$T" -r "$P/lab-mitm.pcap" --ca-bundle "$P/lab-mitm-ca.pem" --interception-cas "$P/lab-mitm-cas.tsv" \
	--asn-db "$P/lab-mitm-asn.mmdb" -q --events - --events-format clickhouse 2>/dev/null >"$rows"
host=$(hostname)
jq -s -e --arg h "$host" '([.[] | select(.kind == "flow")] | length) == 30 and
	all(.[]; .sensor == $h and all(to_entries[]; (.value | type) != "object" and (.value | type) != "null"))' \
	"$rows" >/dev/null
check "one flat row per flow (30 flows; no objects, no nulls), sensor = the host name by default" $?
columns=$(sed -n '/^CREATE TABLE IF NOT EXISTS tamperscope.flows$/,/^ENGINE/p' "$SQL" |
	sed -n 's/^    \([a-z_0-9]*\) [A-Z].*/\1/p' | sort | tr '\n' ' ')
keys=$(jq -r 'select(.kind == "flow") | keys[]' "$rows" | sort -u | tr '\n' ' ')
[ -n "$columns" ] && [ "$columns" = "$keys" ]
check "a flow row has exactly the columns of tamperscope.flows in sql/clickhouse.sql" $?
[ "$columns" = "$keys" ] || { echo "    table: $columns"; echo "    row:   $keys"; }
jq -s -e --arg c "$columns" '($c | split(" ") | map(select(. != ""))) as $cols |
	[.[] | select(.kind == "relabel")] | length > 0 and all(keys - $cols == [])' "$rows" >/dev/null
check "relabel rows use only the table's columns" $?
# DNS transactions, plain HTTP and QUIC flows: each row's domain is the report's key of the flow
# (SNI of TLS or QUIC, HTTP Host, DNS question, the name a DNS answer gave), so rows grouped by
# (network, domain) count what the report's pairs count; quic and mitm_cause rows what its
# quic_flows and mitm_* count.
rowcheck() { # rowcheck WHAT PCAP ARGS...
	what=$1 pcap=$2
	shift 2
	"$T" -r "$pcap" "$@" -q --events - --events-format clickhouse --report-json "$rows.json" \
		2>/dev/null >"$rows"
	jq -s -e --slurpfile r "$rows.json" '
		def rowpairs: [.[] | select(.kind == "flow" and .scanner == 0 and .domain != "")] |
			group_by([.client_asn, .domain, .domain_is_address]) | map({asn: .[0].client_asn,
			domain: .[0].domain, addr: (.[0].domain_is_address == 1), flows: length,
			quic: map(.quic) | add,
			mitm_dns: map(select(.mitm_cause == "dns_manipulation")) | length,
			mitm_icpt: map(select(.mitm_cause == "interception")) | length});
		def reppairs: [$r[0].by_domain_network[] | {asn, domain, addr: .domain_is_address, flows,
			quic: (.quic_flows // 0), mitm_dns: (.mitm_dns_manipulation // 0),
			mitm_icpt: (.mitm_interception // 0)}];
		(rowpairs | sort) == (reppairs | sort) and (reppairs | length) > 0' "$rows" >/dev/null
	check "$what: rows grouped by (network, domain) are the report's pairs: flows, quic, mitm_cause" $?
}
rowcheck "lab-dnshttp (DNS, HTTP, a name from DNS, mitm_cause)" "$P/lab-dnshttp.pcap" \
	--blockpages "$P/lab-dnshttp-blockpages.tsv" --asn-db "$P/lab-dnshttp-asn.mmdb"
jq -s -e '[.[] | select(.kind == "flow")] | any(.app_proto == "DNS" and .domain == "slow.example") and
	any(.app_proto == "HTTP" and .domain == "blog.example") and
	any(.verdict == "syn_timeout" and .sni == "" and .domain == "ipblocked.example") and
	any(.mitm_cause == "dns_manipulation")' "$rows" >/dev/null
check "lab-dnshttp rows: named by the DNS question, the HTTP Host, a DNS answer; a mitm_cause" $?
rowcheck "lab-quic" "$P/lab-quic.pcap"
jq -s -e '[.[] | select(.kind == "flow" and .quic == 1)] | length == 12 and
	all(.domain | startswith("quic-"))' "$rows" >/dev/null
check "lab-quic rows: 12 QUIC flows (quic = 1), named by their SNI" $?
rm -f "$rows" "$rows.json"

if ! command -v clickhouse-server >/dev/null || ! command -v clickhouse-client >/dev/null; then
	echo "SKIP: clickhouse: clickhouse-server/clickhouse-client not installed (tools/install-deps.sh installs them)"
	exit 0
fi
for tool in curl jq python3 editcap perl; do
	command -v $tool >/dev/null || { fail "$tool not installed (a declared test dependency)"; exit 0; }
done
tmp=$(mktemp -d)
A=$tmp/server-a B=$tmp/server-b
loader_pid=
cleanup() {
	[ -n "$loader_pid" ] && kill "$loader_pid" 2>/dev/null
	ch_stop "$A"
	ch_stop "$B"
	rm -rf "$tmp"
}
trap cleanup EXIT

# Both servers know the two-shard cluster; B is started only for the Distributed part.
mkdir -p "$A" "$B"
ports=$(free_ports 6) || { fail "no free local ports for two servers"; exit 0; }
echo "$ports" | cut -d' ' -f1-3 >"$A/ports"
echo "$ports" | cut -d' ' -f4-6 >"$B/ports"
ch_config "$A" "$(ch_tcp "$A")" "$(ch_tcp "$B")" && ch_config "$B" "$(ch_tcp "$A")" "$(ch_tcp "$B")"
if ! ch_start "$A"; then
	echo "SKIP: clickhouse: clickhouse-server does not start here: $(tail -n 3 "$A/log/server.err.log" "$A/log/start.out" 2>/dev/null | tr '\n' ' ')"
	exit 0
fi
pass "clickhouse-server $(chq "$A" 'SELECT version()') started on 127.0.0.1:$(ch_tcp "$A")"
clickhouse-client --port "$(ch_tcp "$A")" --multiquery <"$SQL" 2>"$tmp/sql.err"
check "sql/clickhouse.sql applies (database, flows, views)" $?
[ -s "$tmp/sql.err" ] && sed 's/^/    /' "$tmp/sql.err" | head -n 5

# ---- the sensors ---------------------------------------------------------------------------
cat >"$tmp/lab.csv" <<'CSV'
198.18.1.0/24,9198,JSC Kazakhtelecom
198.18.2.0/24,21299,Kar-Tel LLC
198.18.3.0/24,64496,Lab control network
198.19.0.0/16,64497,Lab hosting
CSV
perl "$srcdir/tools/mktest-mmdb.pl" --out "$tmp/lab.mmdb" "$tmp/lab.csv" ||
	{ fail "cannot write the test MMDB"; exit 0; }
editcap -r "$P/lab-interference.pcap" "$tmp/lab-early.pcap" 1-118 >/dev/null &&
	editcap -r "$P/lab-interference.pcap" "$tmp/lab-late.pcap" 119-524 >/dev/null ||
	{ fail "editcap cannot split the lab capture"; exit 0; }
# lab-quic's AS9198 flows: the QUIC stalls (up to frame 48) and the TLS-over-TCP successes after
editcap -r "$P/lab-quic.pcap" "$tmp/quic-early.pcap" 1-48 >/dev/null &&
	editcap -r "$P/lab-quic.pcap" "$tmp/quic-late.pcap" 49-225 >/dev/null ||
	{ fail "editcap cannot split the QUIC capture"; exit 0; }
python3 "$srcdir/tests/clickhouse/mkcases.py" "$tmp" || { fail "cannot craft cases.pcap"; exit 0; }
LAB="--ca-bundle $P/lab-interference-ca.pem --asn-db $tmp/lab.mmdb"
MITM="--ca-bundle $P/lab-mitm-ca.pem --interception-cas $P/lab-mitm-cas.tsv --asn-db $P/lab-mitm-asn.mmdb"
DNSHTTP="--blockpages $P/lab-dnshttp-blockpages.tsv --asn-db $P/lab-dnshttp-asn.mmdb"
QUIC="--asn-db $tmp/lab.mmdb"
mkdir -p "$tmp/spool-s1" "$tmp/spool-s2" "$tmp/reports"
sensor() { # sensor NAME REPORT PCAP ARGS -- BPF...: one run, rows appended to the spool file
	name=$1 rep=$2 pcap=$3 args=$4
	shift 5
	# shellcheck disable=SC2086
	"$T" -r "$pcap" $args -q --events "$tmp/spool-$name/current.jsonl" --events-format clickhouse \
		--sensor-name "$name" --report-json "$tmp/reports/$rep.json" "$@" 2>>"$tmp/sensor.err"
}

# The server goes away before the sensors write: their rows wait in the spool directories.
ch_stop "$A"
ok=0
sensor s1 s1-lab "$P/lab-interference.pcap" "$LAB" -- net 198.18.1.0/24 || ok=1
sensor s2 s2-lab-early "$tmp/lab-early.pcap" "$LAB" -- not net 198.18.1.0/24 || ok=1
sensor s2 s2-lab-late "$tmp/lab-late.pcap" "$LAB" -- not net 198.18.1.0/24 || ok=1
sensor s1 s1-mitm "$P/lab-mitm.pcap" "$MITM" -- net 198.18.20.0/24 or net 198.18.23.0/24 || ok=1
sensor s2 s2-mitm "$P/lab-mitm.pcap" "$MITM" -- net 198.18.21.0/24 or net 198.18.22.0/24 || ok=1
sensor s1 s1-quic-early "$tmp/quic-early.pcap" "$QUIC" -- net 198.18.1.0/24 || ok=1
sensor s1 s1-quic-late "$tmp/quic-late.pcap" "$QUIC" -- net 198.18.1.0/24 || ok=1
sensor s2 s2-quic "$P/lab-quic.pcap" "$QUIC" -- not net 198.18.1.0/24 || ok=1
sensor s1 s1-dnshttp "$P/lab-dnshttp.pcap" "$DNSHTTP" -- net 198.18.30.0/24 or net 198.18.31.0/24 || ok=1
sensor s2 s2-dnshttp "$P/lab-dnshttp.pcap" "$DNSHTTP" -- net 198.18.32.0/24 || ok=1
sensor s1 s1-cases "$tmp/cases.pcap" "$QUIC" -- net 198.18.1.0/24 || ok=1
sensor s2 s2-cases "$tmp/cases.pcap" "$QUIC" -- not net 198.18.1.0/24 || ok=1
check "two sensors, twelve runs: rows and reports written" $ok
relabels=$(cat "$tmp"/spool-s*/current.jsonl | grep -c '"kind":"relabel"')
[ "$relabels" -gt 0 ]
check "the certificate consistency's relabelling is in the rows ($relabels relabel rows)" $?
# rotation: the sensor's file moves into the spool under a name of its own
for s in s1 s2; do mv "$tmp/spool-$s/current.jsonl" "$tmp/spool-$s/20261128T160000-$s.jsonl"; done
lines=$(cat "$tmp"/spool-s*/*.jsonl | wc -l)

$LOAD --url "$(ch_http "$A")" --settle 0 --wait 1 "$tmp/spool-s1" "$tmp/spool-s2" \
	>"$tmp/load.out" 2>&1 &
loader_pid=$!
sleep 2
kill -0 $loader_pid 2>/dev/null
check "the loader waits and retries while the server is down" $?
grep -q 'not loaded (attempt' "$tmp/load.out"
check "the loader says why it waits" $?
ch_start "$A"
check "clickhouse-server back" $?
for _ in $(seq 1 300); do kill -0 $loader_pid 2>/dev/null || break; sleep 0.1; done
wait $loader_pid
rc=$?
loader_pid=
check "the loader finished once the server was back (exit $rc)" $rc
got=$(chq "$A" "SELECT count(), uniqExact(run_id, seq) FROM tamperscope.flows FORMAT TSV")
[ "$got" = "$lines	$lines" ]
check "every row written while the server was down arrived exactly once ($lines lines: $got)" $?
[ -z "$(find "$tmp/spool-s1" "$tmp/spool-s2" -maxdepth 1 -type f)" ] &&
	[ -f "$tmp/spool-s1/loaded/20261128T160000-s1.jsonl" ]
check "loaded files moved to loaded/" $?

# A loader killed after its insert landed and before it noted so: the next one asks which rows
# arrived and sends none twice.
cp "$tmp/spool-s1/loaded/20261128T160000-s1.jsonl" "$tmp/spool-s1/again.jsonl"
echo "0 1" >"$tmp/spool-s1/.tamperscope-ch-load/again.jsonl.state"
$LOAD --url "$(ch_http "$A")" --settle 0 "$tmp/spool-s1" >>"$tmp/load.out" 2>&1
got=$(chq "$A" "SELECT count(), uniqExact(run_id, seq) FROM tamperscope.flows FORMAT TSV")
[ "$got" = "$lines	$lines" ]
check "an insert in flight when the loader died is not loaded twice ($got)" $?

# ---- the conclusions -------------------------------------------------------------------------
"$T" merge "$tmp"/reports/*.json --report-json "$tmp/merged.json" >/dev/null 2>"$tmp/merge.err"
check "tamperscope merge of the twelve reports" $?
# Both sides print the same columns, tab-separated; the doubles (JSON: 4 decimals) as %.4f on
# both.  A time the report has not (null) is 0 in the views; a flag absent from the JSON is 0.
VERDICTS='ok tls_stall tls_reset syn_timeout syn_reset tls_alert tls_mitm tls_untrusted_cert
client_abort incomplete not_tls quic_stall dns_injection dns_blockpage dns_timeout dns_error
http_blockpage http_reset http_stall'
VLIST=$(echo $VERDICTS | jq -R 'split(" ")')
VCOLS=$(echo $VERDICTS | tr ' ' ',')
fmt() { # fmt COLUMN...: those tab-separated columns as %.4f, then sorted
	awk -F '\t' -v OFS='\t' -v cols="$*" 'BEGIN { n = split(cols, c, " ") }
		{ for (i = 1; i <= n; i++) $c[i] = sprintf("%.4f", $c[i]); print }' | sort
}
# asn name method confidence flows anomalies first_blocked_us last_blocked_us onset_us category
# corroboration methods tcp_ok_flows dns_cross_network consistency sample_factor cross_network
# cross_factor
merge_blocked() {
	jq -r '.by_domain_network[] | select(.conclusion.blocked) | .conclusion as $c | [.asn, .domain,
		$c.method, $c.confidence, .flows, .anomalies, (.timeline.first_blocked_us // 0),
		(.timeline.last_blocked_us // 0), (.timeline.onset_us // 0), (.category // ""),
		(($c.corroboration // []) | join(",")), (($c.methods // []) | join(",")),
		($c.tcp_ok_flows // 0), (if $c.dns_cross_network then 1 else 0 end), $c.consistency,
		$c.sample_factor, $c.cross_network, $c.cross_factor] | @tsv' "$tmp/merged.json" | fmt 4 15 16 18
}
sql_blocked() { # sql_blocked SERVER
	chq "$1" "SELECT asn, name, method, confidence, flows, anomalies, first_blocked_us,
		last_blocked_us, onset_us, category, arrayStringConcat(corroboration, ','),
		arrayStringConcat(methods, ','), tcp_ok_flows, dns_cross_network, consistency,
		sample_factor, cross_network, cross_factor
		FROM tamperscope.blocked FORMAT TSV" | fmt 4 15 16 18
}
# asn domain status method methods confidence consistency sample_factor cross_network
# cross_factor corroboration uncorroborated dns_cross_network tcp_ok_flows flows measured
# anomalies injected mitm_dns mitm_interception quic_flows quic_ok_flows first_ok last_ok
# first_blocked last_blocked onset, then the verdict counts in verdict order
merge_pairs() {
	jq -r --argjson v "$VLIST" '.by_domain_network[] | .conclusion as $c | .verdicts as $n |
		.timeline as $t | [.asn, .domain, $c.status, ($c.method // ""),
		(($c.methods // []) | join(",")), $c.confidence, $c.consistency, $c.sample_factor,
		$c.cross_network, $c.cross_factor, (($c.corroboration // []) | join(",")),
		(if $c.uncorroborated then 1 else 0 end), (if $c.dns_cross_network then 1 else 0 end),
		($c.tcp_ok_flows // 0), .flows, .measured, .anomalies, (.injected_flows // 0),
		(.mitm_dns_manipulation // 0), (.mitm_interception // 0), (.quic_flows // 0),
		(.quic_ok_flows // 0), ($t.first_ok_us // 0), ($t.last_ok_us // 0),
		($t.first_blocked_us // 0), ($t.last_blocked_us // 0), ($t.onset_us // 0)] +
		[$v[] | $n[.] // 0] | @tsv' "$tmp/merged.json" | fmt 6 7 8 10
}
sql_pairs() {
	chq "$1" "SELECT asn, domain, status, method, arrayStringConcat(methods, ','), confidence,
		consistency, sample_factor, cross_network, cross_factor,
		arrayStringConcat(corroboration, ','), uncorroborated, dns_cross_network, tcp_ok_flows,
		flows, measured, anomalies, injected, mitm_dns_manipulation, mitm_interception,
		quic_flows, quic_ok_flows, first_ok_us, last_ok_us, first_blocked_us, last_blocked_us,
		onset_us, $VCOLS
		FROM tamperscope.by_domain_network FORMAT TSV" | fmt 6 7 8 10
}
# asn flows measured anomalies injected mitm_dns mitm_interception quic_flows quic_ok_flows
# dominant_failure dominant_failure_share scanner_flows domains blocked_domains, verdict counts
merge_networks() {
	jq -r --argjson v "$VLIST" '.by_network[] | .verdicts as $n | [.asn, .flows, .measured,
		.anomalies, (.injected_flows // 0), (.mitm_dns_manipulation // 0),
		(.mitm_interception // 0), (.quic_flows // 0), (.quic_ok_flows // 0),
		(.dominant_failure // ""), (.dominant_failure_share // 0), (.scanner_flows // 0),
		.domains, .blocked_domains] + [$v[] | $n[.] // 0] | @tsv' "$tmp/merged.json" | fmt 11
}
sql_networks() {
	chq "$1" "SELECT asn, flows, measured, anomalies, injected, mitm_dns_manipulation,
		mitm_interception, quic_flows, quic_ok_flows, dominant_failure, dominant_failure_share,
		scanner_flows, domains, blocked_domains, $VCOLS
		FROM tamperscope.by_network FORMAT TSV" | fmt 11
}
# the names the cross factor and the corroboration read: ok, measured, answered endpoints
merge_names() {
	jq -r '.by_domain[] | [.domain, .verdicts.ok // 0, .measured, (.reachable_flows // 0)] | @tsv' \
		"$tmp/merged.json" | sort
}
sql_names() {
	chq "$1" "SELECT domain, ok, measured, reachable_flows FROM tamperscope.names FORMAT TSV" | sort
}
compare() { # compare WHAT SERVER
	merge_blocked >"$tmp/m.blocked"
	sql_blocked "$2" >"$tmp/s.blocked"
	n=$(wc -l <"$tmp/m.blocked")
	diff "$tmp/m.blocked" "$tmp/s.blocked" >"$tmp/d.blocked" && [ "$n" -ge 19 ]
	check "$1: tamperscope.blocked equals merge row for row ($n blocked pairs)" $?
	sed 's/^/    /' "$tmp/d.blocked" | head -n 20
	merge_pairs >"$tmp/m.pairs"
	sql_pairs "$2" >"$tmp/s.pairs"
	# the status before the message: a command substitution in the message would reset $?
	diff "$tmp/m.pairs" "$tmp/s.pairs" >"$tmp/d.pairs"
	rc=$?
	check "$1: every network x name: same counts, conclusion (status, method(s), confidence, factors, flags) and timeline ($(wc -l <"$tmp/m.pairs") pairs)" $rc
	sed 's/^/    /' "$tmp/d.pairs" | head -n 20
	merge_networks >"$tmp/m.nets"
	sql_networks "$2" >"$tmp/s.nets"
	diff "$tmp/m.nets" "$tmp/s.nets" >"$tmp/d.nets"
	rc=$?
	check "$1: by_network counts equal merge's ($(wc -l <"$tmp/m.nets") networks)" $rc
	sed 's/^/    /' "$tmp/d.nets" | head -n 10
	merge_names >"$tmp/m.names"
	sql_names "$2" >"$tmp/s.names"
	diff "$tmp/m.names" "$tmp/s.names" >"$tmp/d.names"
	rc=$?
	check "$1: names: ok, measured and answered-endpoint flows equal merge's by_domain ($(wc -l <"$tmp/m.names") names)" $rc
	sed 's/^/    /' "$tmp/d.names" | head -n 10
}
compare "one server" "$A"
# the cases that make the equality worth having
across=$(jq -n --slurpfile a "$tmp/reports/s2-lab-early.json" --slurpfile b "$tmp/reports/s2-lab-late.json" \
	'[$a[0].by_domain_network[] | [.asn, .domain]] - ([$a[0].by_domain_network[] | [.asn, .domain]] -
	 [$b[0].by_domain_network[] | [.asn, .domain]]) | map(join(" ")) | join(", ")')
[ -n "$across" ] && grep -q "$(printf '21299\thumr-site.example\tblocked\ttls_reset')" "$tmp/m.pairs"
check "covered: a pair measured in two runs of a sensor, blocked ($across)" $?
grep -q "$(printf '21299\t198.19.1.5:443\tblocked\tsyn_reset')" "$tmp/m.pairs" &&
	grep -q "$(printf '9198\t198.19.1.3:443\tinconclusive\tsyn_timeout')" "$tmp/m.pairs"
check "covered: a SYN-level method corroborated (reachable in its run) and one not (reachable only in another sensor's)" $?
grep -q "$(printf '64503\tnews.example\tblocked\ttls_mitm')" "$tmp/m.pairs"
check "covered: flows relabelled at the end of a run make a blocked tls_mitm pair" $?
# m.pairs: asn domain status method methods ... tcp_ok_flows is column 14, dns_cross_network 13
pair() { awk -F '\t' -v a="$1" -v d="$2" '$1 == a && $2 == d' "$tmp/m.pairs"; }
pair 9198 quic-news.example | awk -F '\t' '$3 == "blocked" && $4 == "quic_stall" &&
	$5 == "quic_stall" && $14 == 3 { ok = 1 } END { exit !ok }' &&
	! jq -e '.by_domain_network[] | select(.asn == 9198 and .domain == "quic-news.example") |
		.conclusion.methods' "$tmp/reports/s1-quic-early.json" "$tmp/reports/s1-quic-late.json" >/dev/null
check "covered: QUIC blocked while TLS over TCP works (quic_only, 3 TCP ok flows), from runs none of which concludes it, before the DNS errors' rule" $?
pair 21299 quic-news.example | awk -F '\t' '$3 == "blocked" && $4 == "tls_stall" &&
	$5 == "tls_stall,quic_stall" && $6 == "0.6000" && $7 == "1.0000" { ok = 1 } END { exit !ok }'
check "covered: blocked over both transports (methods tls_stall, quic_stall), the lower transport's confidence (QUIC's 0.6, not TCP's 0.67)" $?
pair 9198 gone.example | awk -F '\t' '$3 == "blocked" && $4 == "dns_error" && $13 == 1 { ok = 1 }
	END { exit !ok }' &&
	pair 9198 mixed.example | awk -F '\t' '$3 == "blocked" && $4 == "dns_error" && $13 == 1 &&
		$6 == "0.4286" { ok = 1 } END { exit !ok }' &&
	pair 9198 nowhere.example | awk -F '\t' '$3 == "ok" && $9 == "fails_elsewhere" { ok = 1 }
		END { exit !ok }' &&
	pair 9198 tie.example | awk -F '\t' '$3 == "inconclusive" && $4 == "dns_timeout" && $13 == 0 { ok = 1 }
		END { exit !ok }' &&
	pair 9198 few.example | awk -F '\t' '$3 == "ok" && $13 == 0 { ok = 1 } END { exit !ok }' &&
	pair 9198 quic-news.example | awk -F '\t' '$13 == 0 && $9 == "works_elsewhere" { ok = 1 }
		END { exit !ok }' &&
	! jq -e '.by_domain_network[] | select(.conclusion.dns_cross_network)' \
		"$tmp/reports/s1-cases.json" >/dev/null
check "covered: dns_error blocking across networks (two names; seen only in the merge) and not (fails everywhere, no more than the interference, too few flows)" $?
pair 9198 tied.example | awk -F '\t' '$3 == "inconclusive" && $4 == "dns_injection" { ok = 1 }
	END { exit !ok }'
check "covered: a tie between two interference verdicts (the first in verdict order is the method)" $?
methods=$(awk -F '\t' '$3 == "blocked" { print $4 }' "$tmp/m.pairs" | sort -u | tr '\n' ' ')
[ "$methods" = "dns_blockpage dns_error dns_injection dns_timeout http_blockpage http_reset http_stall quic_stall syn_reset tls_mitm tls_reset tls_stall " ]
check "covered: blocked pairs of every method but syn_timeout ($methods)" $?
pair 64521 news.example | awk -F '\t' '$19 == 1 { ok = 1 } END { exit !ok }'
check "covered: a forged certificate DNS explains (mitm_dns_manipulation)" $?

# ---- bad rows -----------------------------------------------------------------------------
mkdir -p "$tmp/spool-bad"
good=$tmp/spool-s2/loaded/20261128T160000-s2.jsonl
{
	sed -n 1,2p "$good"
	sed -n 3p "$good" | cut -c1-120                      # line 3: truncated
	sed -n 4,5p "$good"
	sed -n 6p "$good" | sed 's/^{/{"quic_version":"1",/' # line 6: a newer sensor's column
	sed -n 7,9p "$good"
} | sed 's/"run_id":"\([0-9a-f]*\)"/"run_id":"bad\1"/' >"$tmp/spool-bad/bad.jsonl"
# the rows of exactly these runs: a prefix alone would also take a real run whose random hex id begins with "bad"
bad_ids=$(grep -o '"run_id":"bad[0-9a-f]*"' "$tmp/spool-bad/bad.jsonl" | sort -u | sed "s/\"run_id\":\"\(.*\)\"/'\1'/" | paste -sd,)
$LOAD --url "$(ch_http "$A")" --settle 0 "$tmp/spool-bad" >"$tmp/bad.out" 2>&1
rc=$?
[ $rc = 3 ]
check "a file with bad lines loads with exit status 3 (got $rc)" $?
grep -q 'bad.jsonl:3: rejected' "$tmp/bad.out"
check "the truncated line is reported with its line number (3)" $?
grep -q 'bad.jsonl:6: rejected: .*quic_version' "$tmp/bad.out"
check "the newer schema's line is reported with its line number (6) and the unknown column" $?
sed 's/^/    /' "$tmp/bad.out" | cut -c1-200 | head -n 4
got=$(chq "$A" "SELECT count() FROM tamperscope.flows WHERE run_id IN ($bad_ids)")
[ "$got" = 7 ]
check "the 7 good rows of the 9 loaded ($got)" $?
[ "$(cut -f1 "$tmp/spool-bad/loaded/bad.jsonl.rejected" | tr '\n' ' ')" = "3 6 " ]
check "the rejected lines are kept with their line numbers for a later reload" $?

# ---- rotation: mv + SIGHUP while the sensor runs ------------------------------------------
mkdir -p "$tmp/spool-live"
"$T" --replay "$P/lab-mitm.pcap" --speed 2 $MITM -q --events "$tmp/live.jsonl" \
	--events-format clickhouse --sensor-name live 2>/dev/null &
live=$!
sleep 3
mv "$tmp/live.jsonl" "$tmp/spool-live/1.jsonl"
kill -HUP $live
wait $live
mv "$tmp/live.jsonl" "$tmp/spool-live/2.jsonl"
n1=$(wc -l <"$tmp/spool-live/1.jsonl")
n2=$(wc -l <"$tmp/spool-live/2.jsonl")
$LOAD --url "$(ch_http "$A")" --settle 0 "$tmp/spool-live" >>"$tmp/load.out" 2>&1
got=$(chq "$A" "SELECT count(), uniqExact(run_id, seq), max(seq) FROM tamperscope.flows WHERE sensor = 'live' FORMAT TSV")
[ "$n2" -gt 0 ] && [ "$got" = "$((n1 + n2))	$((n1 + n2))	$((n1 + n2))" ]
check "rotated by mv + SIGHUP while running: $n1 + $n2 rows in two files, all loaded once ($got)" $?

# ---- two shards ---------------------------------------------------------------------------
dist=$(sed -n '/BEGIN DISTRIBUTED EXAMPLE/,/END DISTRIBUTED EXAMPLE/p' "$SQL" | grep -v 'DISTRIBUTED EXAMPLE' | sed 's/^-- \{0,1\}//')
if ! ch_start "$B"; then
	fail "a second clickhouse-server does not start: $(tail -n 3 "$B/log/server.err.log" "$B/log/start.out" 2>/dev/null | tr '\n' ' ')"
	exit 0
fi
ok=0
chq "$A" "DROP DATABASE IF EXISTS tamperscope" >/dev/null || ok=1
for s in "$A" "$B"; do
	clickhouse-client --port "$(ch_tcp "$s")" --multiquery <"$SQL" || ok=1
	printf '%s\n' "$dist" | clickhouse-client --port "$(ch_tcp "$s")" --multiquery || ok=1
done
check "two servers as two shards: the file, then its Distributed example, on each" $ok
# each sensor's loader points at its own shard
mkdir -p "$tmp/shard-a" "$tmp/shard-b"
cp "$tmp/spool-s1/loaded/20261128T160000-s1.jsonl" "$tmp/shard-a/"
cp "$tmp/spool-s2/loaded/20261128T160000-s2.jsonl" "$tmp/shard-b/"
$LOAD --url "$(ch_http "$A")" --table tamperscope.flows_local --settle 0 "$tmp/shard-a" >>"$tmp/load.out" 2>&1 &&
	$LOAD --url "$(ch_http "$B")" --table tamperscope.flows_local --settle 0 "$tmp/shard-b" >>"$tmp/load.out" 2>&1
check "s1 loaded into shard 1, s2 into shard 2" $?
na=$(chq "$A" "SELECT count() FROM tamperscope.flows_local")
nb=$(chq "$B" "SELECT count() FROM tamperscope.flows_local")
nd=$(chq "$A" "SELECT count() FROM tamperscope.flows")
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] && [ "$nd" = "$lines" ]
check "the Distributed table sees both shards ($na + $nb = $nd rows)" $?
compare "Distributed, asked on shard 1" "$A"
compare "Distributed, asked on shard 2" "$B"
# through the Distributed table itself, acknowledged only once on its shard
mkdir -p "$tmp/via-dist"
cp "$tmp/spool-live/loaded/"*.jsonl "$tmp/via-dist/"
$LOAD --url "$(ch_http "$B")" --setting insert_distributed_sync=1 --settle 0 "$tmp/via-dist" >>"$tmp/load.out" 2>&1
got=$(chq "$A" "SELECT count(), uniqExact(run_id, seq) FROM tamperscope.flows WHERE sensor = 'live' FORMAT TSV")
[ "$got" = "$((n1 + n2))	$((n1 + n2))" ]
check "loaded through the Distributed table (insert_distributed_sync=1): all rows on their shard at once ($got)" $?
exit 0

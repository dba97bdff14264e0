#!/bin/sh
# tests/asn/run.sh - networks and reports end to end: test MMDBs made here by
# tools/mktest-mmdb.pl, the real default database when built (data/asn.mmdb),
# range-to-network conversion, misses, IPv4-mapped addresses, conclusion
# thresholds and confidence through `tamperscope merge`, test-list parsing,
# and merge(A, B) == one run over A and B.  Prints PASS:/FAIL:/SKIP: lines.
srcdir=${srcdir:-.}
builddir=${builddir:-.}
T=${TAMPERSCOPE:-$builddir/src/tamperscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS: asn: $1"; }
fail() { echo "FAIL: asn: $1"; }
skip() { echo "SKIP: asn: $1: $2"; }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1"; fi; }

have_writer=0
perl -MMaxMind::DB::Writer::Tree -MMath::Int128 -e 1 2>/dev/null && have_writer=1
have_asn_cmd=0
"$T" asn --help >/dev/null 2>&1 && have_asn_cmd=1
have_merge=0
"$T" merge --help >/dev/null 2>&1 && have_merge=1

# lookup DB ADDR -> "ASN<TAB>ORG" via the program's own lookup code
lookup() {
	"$T" asn --asn-db "$1" "$2" 2>/dev/null | cut -f2-
}

# ---- range to networks (tools/AsnRange.pm, the converter the build uses) ----
cidr() { perl "$srcdir/tools/mkasn-mmdb.pl" --cidr "$1" "$2" 2>&1 | tr '\n' ' ' | sed 's/ $//'; }
if [ $have_writer = 1 ]; then
	ok=0
	[ "$(cidr 5.34.32.0 5.34.46.255)" = "5.34.32.0/21 5.34.40.0/22 5.34.44.0/23 5.34.46.0/24" ] || ok=1
	[ "$(cidr 2.132.0.0 2.135.255.255)" = "2.132.0.0/14" ] || ok=1
	[ "$(cidr 0.0.0.0 255.255.255.255)" = "0.0.0.0/0" ] || ok=1
	[ "$(cidr 10.0.0.255 10.0.1.0)" = "10.0.0.255/32 10.0.1.0/32" ] || ok=1
	[ "$(cidr 2001:db8::1 2001:db8::10)" = "2001:db8::1/128 2001:db8::2/127 2001:db8::4/126 2001:db8::8/125 2001:db8::10/128" ] || ok=1
	[ "$(cidr :: ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff)" = "::/0" ] || ok=1
	[ "$(cidr 0.0.0.1 255.255.255.254 | wc -w)" = 62 ] || ok=1
	[ "$(cidr ::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe | wc -w)" = 254 ] || ok=1
	check "range-to-network conversion (perl converter)" $ok
	perl "$srcdir/tools/mkasn-mmdb.pl" --cidr 10.0.0.2 10.0.0.1 >/dev/null 2>&1
	[ $? != 0 ]; check "range with first > last rejected" $?
else
	skip "range-to-network conversion (perl converter)" "libmaxmind-db-writer-perl not installed"
fi

# ---- a generated test MMDB ---------------------------------------------------
cat >"$tmp/test.csv" <<'EOF'
# lab networks: two censoring ISPs and a control network
198.18.1.0/24,9198,JSC Kazakhtelecom
198.18.2.0,198.18.2.127,21299,"Kar-Tel LLC"
198.18.3.0/24,64500,"Control, ""Lab"" Net"
2001:db8:1::/48,64501,IPv6 Lab
EOF
if [ $have_writer = 0 ]; then
	skip "test MMDB lookups" "libmaxmind-db-writer-perl not installed"
elif [ $have_asn_cmd = 0 ]; then
	skip "test MMDB lookups" "$T has no 'asn' command (not wired yet)"
else
	perl "$srcdir/tools/mktest-mmdb.pl" --out "$tmp/t6.mmdb" "$tmp/test.csv" &&
	perl "$srcdir/tools/mktest-mmdb.pl" --no-alias --out "$tmp/t6n.mmdb" "$tmp/test.csv" &&
	perl "$srcdir/tools/mktest-mmdb.pl" --ipv4-only --out "$tmp/t4.mmdb" "$tmp/test.csv"
	check "mktest-mmdb.pl writes IPv6, unaliased and IPv4-only test DBs" $?
	for db in t6 t6n t4; do
		ok=0
		[ "$(lookup "$tmp/$db.mmdb" 198.18.1.10)" = "$(printf '9198\tJSC Kazakhtelecom')" ] || ok=1
		[ "$(lookup "$tmp/$db.mmdb" 198.18.2.100)" = "$(printf '21299\tKar-Tel LLC')" ] || ok=1
		[ "$(lookup "$tmp/$db.mmdb" 198.18.3.1)" = "$(printf '64500\tControl, "Lab" Net')" ] || ok=1
		check "$db: test addresses map to their networks" $ok
		ok=0
		[ "$(lookup "$tmp/$db.mmdb" 198.18.2.200)" = "$(printf '0\tunknown')" ] || ok=1
		[ "$(lookup "$tmp/$db.mmdb" 192.0.2.1)" = "$(printf '0\tunknown')" ] || ok=1
		check "$db: lookup misses give AS0 unknown" $ok
		[ "$(lookup "$tmp/$db.mmdb" ::ffff:198.18.1.10)" = "$(printf '9198\tJSC Kazakhtelecom')" ]
		check "$db: IPv4-mapped IPv6 input finds the IPv4 network" $?
	done
	[ "$(lookup "$tmp/t6n.mmdb" 2001:db8:1:2::3)" = "$(printf '64501\tIPv6 Lab')" ]
	check "IPv6 address maps" $?
	"$T" asn --asn-db "$tmp/nonexistent.mmdb" 198.18.1.1 >/dev/null 2>"$tmp/err"
	[ $? = 1 ] && grep -q nonexistent "$tmp/err"
	check "--asn-db that does not open is an error" $?
	TAMPERSCOPE_ASN_DB="$tmp/t4.mmdb" "$T" asn 198.18.1.1 >"$tmp/out" 2>&1
	[ "$(cut -f2 "$tmp/out")" = 9198 ]
	check "TAMPERSCOPE_ASN_DB is used" $?
	"$T" asn --no-asn-db 198.18.1.1 >"$tmp/out" 2>"$tmp/err"
	[ "$(cut -f2 "$tmp/out")" = 0 ] && [ ! -s "$tmp/err" ]
	check "--no-asn-db: AS0, no warning" $?
fi

# ---- the real default database (make asn-db) -------------------------------
realdb=""
for f in "$builddir/data/asn.mmdb" "$srcdir/data/asn.mmdb"; do
	[ -f "$f" ] && realdb=$f && break
done
if [ -z "$realdb" ]; then
	skip "real ASN database" "data/asn.mmdb not built (run: make asn-db)"
elif [ $have_asn_cmd = 0 ]; then
	skip "real ASN database" "$T has no 'asn' command (not wired yet)"
else
	# 2.132.0.0-2.135.255.255 is AS9198 JSC Kazakhtelecom in the RouteViews
	# data; 8.8.8.0/24 Google, 1.1.1.0/24 Cloudflare, 2a00:12f8::/32 AS9198
	[ "$(lookup "$realdb" 2.132.0.1)" = "$(printf '9198\tJSC Kazakhtelecom')" ]
	check "real DB: 2.132.0.1 is AS9198 JSC Kazakhtelecom" $?
	[ "$(lookup "$realdb" ::ffff:2.132.0.1)" = "$(printf '9198\tJSC Kazakhtelecom')" ]
	check "real DB: IPv4-mapped 2.132.0.1 is AS9198" $?
	[ "$(lookup "$realdb" 8.8.8.8)" = "$(printf '15169\tGoogle LLC')" ]
	check "real DB: 8.8.8.8 is AS15169 Google LLC" $?
	[ "$(lookup "$realdb" 1.1.1.1 | cut -f1)" = 13335 ]
	check "real DB: 1.1.1.1 is AS13335" $?
	[ "$(lookup "$realdb" 2a00:12f8::1 | cut -f1)" = 9198 ]
	check "real DB: 2a00:12f8::1 is AS9198" $?
	[ "$(lookup "$realdb" 10.1.2.3)" = "$(printf '0\tunknown')" ]
	check "real DB: private 10.1.2.3 is unknown" $?
fi

# ---- reports through `tamperscope merge` --------------------------------------
# mkreport ASN NAME OK STALL RESET -> a minimal valid report with one
# network x name (flows one second apart from 2024-05-14T23:00:00Z)
mkreport() {
	asn=$1 name=$2 ok=$3 st=$4 rs=$5
	flows=$((ok + st + rs))
	anom=$((st + rs))
	t0=1715727600000000
	v=""
	[ "$ok" -gt 0 ] && v="\"ok\":$ok"
	[ "$st" -gt 0 ] && v="${v:+$v,}\"tls_stall\":$st"
	[ "$rs" -gt 0 ] && v="${v:+$v,}\"tls_reset\":$rs"
	if [ "$ok" -gt 0 ]; then
		okt="\"first_ok_us\":$t0,\"last_ok_us\":$((t0 + 1000000 * (ok - 1)))"
	else
		okt="\"first_ok_us\":null,\"last_ok_us\":null"
	fi
	if [ $anom -gt 0 ]; then
		bt="\"first_blocked_us\":$((t0 + 1000000 * ok)),\"last_blocked_us\":$((t0 + 1000000 * (flows - 1)))"
	else
		bt="\"first_blocked_us\":null,\"last_blocked_us\":null"
	fi
	printf '{"format":"tamperscope-report","format_version":1,"time_bucket_us":3600000000,'
	printf '"min_flows":3,"flows":%d,"not_attributed":{"network":0,"domain":0,' $flows
	printf '"domain_network":0,"bucket":0},'
	printf '"by_network":[{"asn":%d,"as_org":"AS%d","flows":%d,"verdicts":{%s}}],' $asn $asn $flows "$v"
	printf '"by_domain_network":[{"asn":%d,"as_org":"AS%d","domain":"%s","domain_is_address":false,' $asn $asn "$name"
	printf '"category":null,"flows":%d,"verdicts":{%s},"timeline":{%s,%s,' $flows "$v" "$okt" "$bt"
	printf '"buckets":[{"start_us":%d,"flows":%d,"ok":%d,"blocked":%d}]}}],' $t0 $flows $ok $anom
	printf '"by_domain":[{"domain":"%s","domain_is_address":false,"category":null,' "$name"
	printf '"flows":%d,"verdicts":{%s}}],"by_category":[]}\n' $flows "$v"
}
status_of() { # files... -> "status confidence" of the first AS9198 row
	"$T" merge "$@" --report-json - -q 2>"$tmp/merge.err" |
		jq -r '[.by_domain_network[] | select(.asn == 9198)][0].conclusion | "\(.status) \(.confidence)"'
}

if [ $have_merge = 0 ]; then
	skip "merge and conclusions" "$T has no 'merge' command (not wired yet)"
elif ! command -v jq >/dev/null 2>&1; then
	skip "merge and conclusions" "jq not installed"
else
	mkreport 9198 kloop.kg 0 3 0 >"$tmp/s3.json"
	mkreport 9198 kloop.kg 0 2 0 >"$tmp/s2.json"
	mkreport 9198 kloop.kg 2 3 0 >"$tmp/a35.json"
	mkreport 9198 kloop.kg 3 2 0 >"$tmp/a25.json"
	mkreport 9198 kloop.kg 0 3 2 >"$tmp/c35.json"
	mkreport 9198 kloop.kg 0 2 2 >"$tmp/c24.json"
	mkreport 9198 kloop.kg 9 1 0 >"$tmp/ok.json"
	mkreport 9198 kloop.kg 0 10 0 >"$tmp/s10.json"
	mkreport 64500 kloop.kg 4 0 0 >"$tmp/ctl.json"
	[ "$(status_of "$tmp/s3.json" | cut -d' ' -f1)" = blocked ]
	check "3 flows (= --min-flows) all stalled: blocked" $?
	[ "$(status_of "$tmp/s2.json" | cut -d' ' -f1)" = inconclusive ]
	check "2 flows: inconclusive" $?
	[ "$(status_of "$tmp/s2.json" --min-flows 2 | cut -d' ' -f1)" = blocked ]
	check "--min-flows 2: blocked" $?
	[ "$(status_of "$tmp/a35.json" | cut -d' ' -f1)" = blocked ]
	check "anomaly share exactly 3/5: blocked" $?
	[ "$(status_of "$tmp/a25.json" | cut -d' ' -f1)" = inconclusive ]
	check "anomaly share 2/5: inconclusive" $?
	[ "$(status_of "$tmp/c35.json" | cut -d' ' -f1)" = blocked ]
	check "consistency exactly 3/5: blocked" $?
	[ "$(status_of "$tmp/c24.json" | cut -d' ' -f1)" = inconclusive ]
	check "mixed failures 2/4: inconclusive" $?
	[ "$(status_of "$tmp/ok.json" | cut -d' ' -f1)" = ok ]
	check "anomaly share 1/10: ok" $?
	c3=$(status_of "$tmp/s3.json" | cut -d' ' -f2)
	c10=$(status_of "$tmp/s10.json" | cut -d' ' -f2)
	c3x=$(status_of "$tmp/s3.json" "$tmp/ctl.json" | cut -d' ' -f2)
	c10x=$(status_of "$tmp/s10.json" "$tmp/ctl.json" | cut -d' ' -f2)
	[ "$c3" = 0.45 ] && [ "$c3x" = 0.6 ] &&
		awk -v a="$c3" -v b="$c10" -v c="$c3x" -v d="$c10x" 'BEGIN { exit !(a < b && c < d && a < c && b < d) }'
	check "confidence rises with flow count and with a working control network ($c3 $c10 $c3x $c10x)" $?
	# merging recomputes: two sensors below --min-flows add up to blocked
	[ "$(status_of "$tmp/s2.json" "$tmp/s2.json" | cut -d' ' -f1)" = blocked ]
	check "merge(2 + 2 flows) recomputes to blocked" $?
	# a report merged alone comes back byte for byte
	"$T" merge "$tmp/s3.json" "$tmp/ctl.json" --report-json "$tmp/m1.json" -q &&
		"$T" merge "$tmp/m1.json" --report-json "$tmp/m2.json" -q && cmp -s "$tmp/m1.json" "$tmp/m2.json"
	check "merge of one report reproduces it" $?
	# a bad report stops the merge with its name and the reason
	sed 's/"flows":3,"verdicts"/"flows":4,"verdicts"/' "$tmp/s3.json" >"$tmp/bad.json"
	"$T" merge "$tmp/s3.json" "$tmp/bad.json" -q 2>"$tmp/err"
	[ $? = 1 ] && grep -q "bad.json" "$tmp/err" && grep -q "add up" "$tmp/err"
	check "inconsistent report rejected" $?
	head -c 200 "$tmp/s3.json" >"$tmp/cut.json"
	"$T" merge "$tmp/cut.json" -q 2>"$tmp/err"
	[ $? = 1 ] && grep -q "line 1" "$tmp/err"
	check "truncated report rejected" $?

	# test lists: the sample list, quoted fields, bad lines reported, not fatal
	"$T" merge "$tmp/s3.json" --test-list "$srcdir/data/testlist-kz.csv" --report-json - -q \
		2>"$tmp/err" >"$tmp/cat.json"
	[ ! -s "$tmp/err" ] &&
		[ "$(jq -r '.by_category[] | "\(.category)=\(.listed)"' "$tmp/cat.json" | tr '\n' ' ')" = "NEWS=17 HUMR=4 ANON=73 " ] &&
		[ "$(jq -r '.by_domain[0].category' "$tmp/cat.json")" = NEWS ]
	check "data/testlist-kz.csv: 17 NEWS, 4 HUMR, 73 ANON; kloop.kg is NEWS" $?
	printf 'url,category_code,category_description,date_added,source,notes\n"https://kloop.kg/",NEWS,"News, Media",,,"a ""quoted"" note"\nhttps://nocat.kz/\nhttps://x.kz/,ANON,"broken\n' >"$tmp/list.csv"
	"$T" merge "$tmp/s3.json" --test-list "$tmp/list.csv" --report-json - -q 2>"$tmp/err" >"$tmp/cat.json"
	rc=$?
	[ $rc = 0 ] && grep -q 'list.csv:3:' "$tmp/err" && grep -q 'list.csv:4:' "$tmp/err" &&
		[ "$(jq -r '.by_domain[0].category' "$tmp/cat.json")" = NEWS ] &&
		[ "$(jq -r '.by_category[0].description' "$tmp/cat.json")" = "News, Media" ]
	check "test list: quoted fields read, bad lines reported with line numbers, not fatal" $?
fi

# ---- merge(A, B) == one run over A and B, on the committed captures -----------
if [ $have_merge = 0 ] || ! "$T" --help 2>&1 | grep -q -- '--report-json'; then
	skip "merge equals a single run" "$T has no --report-json / merge (not wired yet)"
else
	n=0
	for pcap in "$srcdir"/pcaps/*.pcap "$srcdir"/pcaps/*.pcapng; do
		[ -f "$pcap" ] || continue
		n=$((n + 1))
		[ $n -gt 3 ] && break
		b=$(basename "$pcap")
		# the same capture twice: the second copy starts before the clock,
		# so it is analysed as a separate capture, exactly as a second run.
		# The certificate consistency table needs the chains themselves,
		# which a report does not keep: merge leaves it out (documented).
		"$T" -q -r "$pcap" --no-asn-db --report-json "$tmp/a.json" 2>/dev/null &&
			"$T" -q -r "$pcap" -r "$pcap" --no-asn-db --report-json "$tmp/ab.json" 2>/dev/null &&
			"$T" merge "$tmp/a.json" "$tmp/a.json" --report-json "$tmp/m.json" -q &&
			jq -S 'del(.cert_consistency)' "$tmp/ab.json" >"$tmp/ab.cmp" &&
			jq -S 'del(.cert_consistency)' "$tmp/m.json" >"$tmp/m.cmp" &&
			cmp -s "$tmp/m.cmp" "$tmp/ab.cmp"
		check "$b: merge(A, A) equals one run over A + A" $?
	done
	[ $n -gt 0 ] || skip "merge equals a single run" "no captures in pcaps/"
fi

# ---- make asn-db when npm fails: npm's own reason, one retry --------------------
mkdir -p "$tmp/fakenpm"
cat >"$tmp/fakenpm/npm" <<'NPM'
#!/bin/sh
echo "npm ERR! code ECONNRESET" >&2
echo "npm ERR! network request to the registry failed, reason: socket hang up" >&2
echo "npm ERR! A complete log of this run can be found in:" >&2
exit 1
NPM
chmod +x "$tmp/fakenpm/npm"
PATH="$tmp/fakenpm:$PATH" perl "$srcdir/tools/mkasn-mmdb.pl" --npm --out "$tmp/never.mmdb" >"$tmp/npm.out" 2>&1
rc=$?
[ $rc != 0 ] && [ "$(grep -c 'socket hang up' "$tmp/npm.out")" = 2 ] && grep -q 'trying once more' "$tmp/npm.out" &&
	! grep -q 'is npm installed' "$tmp/npm.out" && [ ! -f "$tmp/never.mmdb" ]
check "make asn-db: a failing npm pack is told in npm's own words and tried once more" $?

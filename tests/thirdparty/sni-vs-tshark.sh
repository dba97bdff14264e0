#!/bin/sh
# sni-vs-tshark.sh - third-party tier: tamperscope's SNI for every TCP flow with a ClientHello, and for every QUIC flow
# whose Initials tshark 4.0 decrypts, must agree with tshark's.
#
# The captures come from ${TS_SHARED_PCAPS:-$srcdir/../shared/pcaps} (public
# nDPI and Zeek test traces, see the README there); they are never shipped with
# the project, so the tier skips when the folder is absent.
#
# For each *.pcap / *.pcapng:
#   - tshark lists every frame holding a ClientHello (handshake type 1) with
#     the innermost IP pair, the TCP ports, the tcp.stream index and the
#     server_name.  The expected SNI of a TCP stream is the one of its first
#     ClientHello (tamperscope reports the first ClientHello of a flow; a
#     second one, e.g. after a HelloRetryRequest, normally repeats it).
#   - tamperscope writes one JSON event per flow; TCP events are keyed on
#     client ip:port -> server ip:port, as tshark's ClientHello sender is the
#     client.
#   - every tshark stream must find a tamperscope event with the same key and
#     the same SNI (null = no SNI = tshark's empty field).  A key used by
#     several streams (port reuse) needs one event per stream.
# QUIC: tshark 4.0 decrypts Initials (v1, v2, drafts, Google's T050/T051) and dissects the ClientHello inside; every
# udp.stream with a ClientHello is a QUIC connection attempt, keyed client ip:port -> server ip:port like TCP and
# compared with tamperscope's UDP events the same way (the first ClientHello of the stream counts).  The tier ends
# with an INFO line counting the QUIC streams compared.
# Lines: "PASS: thirdparty: <file> ran", "PASS: thirdparty: <file> <c> -> <s>
# sni=<x>", "FAIL: thirdparty: <file> <c> -> <s>: tshark <x> tamperscope <y>".
# "INFO:" lines are diagnostics only (the runner counts PASS/FAIL/SKIP).
#
# Choices, and why:
#   - tshark runs with -o tcp.reassemble_out_of_order:TRUE, otherwise tshark
#     4.0 misses ClientHellos whose segments arrive out of order, which
#     tamperscope does reassemble.
#   - Encapsulations (VLAN, GTP-U, IP-in-IP, ...) make tshark report several
#     ip.src/ipv6.src values per frame; the innermost one (the last ip/ipv6
#     layer in frame.protocols) is the TCP endpoint.  There is deliberately NO
#     exception list: a flow that tshark sees inside an encapsulation
#     tamperscope does not decode is reported as a FAIL, so the decoder gets
#     fixed instead of the test hiding it.
#   - Decode-as: tshark finds TLS on non-443 ports (3001, 7070, 8888, 64132 in
#     the shared set) through its heuristics, so no "-d" is used by default.
#     To stay independent of those heuristics, the script also scans raw TCP
#     payloads for a TLS record header carrying a ClientHello (16 03 0x .. ..
#     01) or an SSLv2 ClientHello (80 .. 01); if that finds one on a server
#     port where tshark dissected no TLS at all, tshark is run again with
#     "-d tcp.port==N,tls" for exactly those ports and an INFO line says so.
#   - Flows where tamperscope reports an SNI but tshark saw no ClientHello
#     (e.g. a ClientHello with a missing segment) are printed as INFO, not
#     judged: tshark is the reference only where it decoded a ClientHello.
#   - tamperscope may exit 0, or 1 with an error message for a broken file;
#     death by a signal, a sanitizer report, or no events at all for a file
#     where tshark saw ClientHellos is a FAIL.

srcdir=${srcdir:-.}
builddir=${builddir:-.}
TAMPERSCOPE=${TAMPERSCOPE:-$builddir/src/tamperscope}
shared=${TS_SHARED_PCAPS:-$srcdir/../shared/pcaps}

if [ ! -d "$shared" ]; then
	echo "SKIP: thirdparty: $shared not found (third-party captures are not shipped with the project)"
	exit 0
fi
if ! command -v tshark >/dev/null 2>&1; then
	echo "FAIL: thirdparty: tshark not installed"
	exit 1
fi
if ! command -v jq >/dev/null 2>&1; then
	echo "FAIL: thirdparty: jq not installed (a declared test dependency)"
	exit 1
fi
if [ ! -x "$TAMPERSCOPE" ]; then
	echo "FAIL: thirdparty: $TAMPERSCOPE not built"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nfail=0
fail() {
	echo "FAIL: thirdparty: $*"
	nfail=$((nfail + 1))
}

# tshark_scan FILE [-d ...]: one tshark pass over the TCP segments with
# payload.  Writes $tmp/ch, one line per ClientHello frame:
#   stream <TAB> client <TAB> server <TAB> sni   (sni "" when absent)
# and $tmp/rawports: server ports whose payload starts with a ClientHello
# record although tshark dissected no TLS at all on them.
tshark_scan() {
	f=$1
	shift
	tshark -o tcp.reassemble_out_of_order:TRUE -n "$@" -r "$f" \
		-Y 'tcp.len > 0' -T fields \
		-e frame.protocols -e tcp.stream \
		-e ip.src -e ipv6.src -e tcp.srcport \
		-e ip.dst -e ipv6.dst -e tcp.dstport \
		-e tls.handshake.type -e tls.handshake.extensions_server_name \
		-e tcp.payload \
		-E separator=/t -E occurrence=a -E aggregator=/s \
		>"$tmp/fields" 2>"$tmp/tshark.err"
	trc=$?
	[ $trc -eq 0 ] || echo "INFO: thirdparty: $(basename "$f"): tshark exited $trc:" \
		"$(grep -v '^Running as user' "$tmp/tshark.err" | head -n 1)"
	: >"$tmp/rawports"
	awk -F '\t' -v rawports="$tmp/rawports" '
	function last(s,   a, n) { n = split(s, a, " "); return n ? a[n] : "" }
	function first(s,   a, n) { n = split(s, a, " "); return n ? a[1] : "" }
	function has1(s,   a, n, i) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) if (a[i] == "1") return 1
		return 0
	}
	{
		sport = last($5); dport = last($8); pay = last($11)
		if ($1 ~ /:tls/) { tls[dport] = 1; tls[sport] = 1 }
		if (pay ~ /^16030[0-4]....01/ || pay ~ /^80..01/) raw[dport] = 1
		if (!($1 ~ /:tls/ && has1($9)))
			next
		# The innermost IP layer is the last "ip" or "ipv6" in the
		# protocol stack; its addresses are the last occurrences.
		n = split($1, p, ":"); fam = ""
		for (i = n; i >= 1; i--)
			if (p[i] == "ip" || p[i] == "ipv6") { fam = p[i]; break }
		if (fam == "ipv6") {
			c = "[" last($4) "]:" sport; s = "[" last($7) "]:" dport
		} else {
			c = last($3) ":" sport; s = last($6) ":" dport
		}
		# Several ClientHellos in one frame: the first one counts.
		print last($2) "\t" c "\t" s "\t" first($10)
	}
	END {
		for (port in raw) if (!(port in tls)) print port > rawports
		close(rawports)
	}' "$tmp/fields" >"$tmp/ch"
}

# quic_scan FILE: like tshark_scan, for ClientHellos that tshark found in decrypted QUIC Initials; writes $tmp/qch.
quic_scan() {
	tshark -n -r "$1" -Y 'quic && tls.handshake.type == 1' -T fields \
		-e frame.protocols -e udp.stream \
		-e ip.src -e ipv6.src -e udp.srcport \
		-e ip.dst -e ipv6.dst -e udp.dstport \
		-e tls.handshake.type -e tls.handshake.extensions_server_name \
		-E separator=/t -E occurrence=a -E aggregator=/s >"$tmp/qfields" 2>"$tmp/tshark.err" || return 1
	awk -F '\t' '
	function last(s,   a, n) { n = split(s, a, " "); return n ? a[n] : "" }
	function first(s,   a, n) { n = split(s, a, " "); return n ? a[1] : "" }
	{
		n = split($1, p, ":"); fam = ""
		for (i = n; i >= 1; i--)
			if (p[i] == "ip" || p[i] == "ipv6") { fam = p[i]; break }
		if (fam == "ipv6") {
			c = "[" last($4) "]:" last($5); s = "[" last($7) "]:" last($8)
		} else {
			c = last($3) ":" last($5); s = last($6) ":" last($8)
		}
		print "u" last($2) "\t" c "\t" s "\t" first($10)
	}' "$tmp/qfields" >"$tmp/qch"
}

# ts_events FILE [PROTO]: client <TAB> server <TAB> sni ("\001" for null), TCP (or PROTO) flows only.
ts_events() {
	jq -r --arg proto "${2:-TCP}" 'select(.event_type == "flow" and .proto == $proto) |
		def ep(ip; port): (if (ip | test(":")) then "[" + ip + "]" else ip end)
			+ ":" + (port | tostring);
		[ep(.src_ip; .src_port), ep(.dest_ip; .dest_port),
		 (if .sni == null then "\u0001" else .sni end)] | @tsv' "$1"
}

# compare NAME TSFILE CHFILE: every stream of CHFILE against the events of TSFILE; PASS/FAIL/INFO lines, then END.

compare() {
	awk -F '\t' -v file="$1" '
	function show(x) { return x == "" || x == "\001" ? "(none)" : x }
	FNR == NR {
		# tamperscope event: key -> list of SNIs
		k = $1 " -> " $2
		tsn[k]++; tsv[k SUBSEP tsn[k]] = $3
		next
	}
	{
		k = $2 " -> " $3; ks = k SUBSEP $1
		if (ks in chsni) {
			# later ClientHello of the same stream: noted if it differs
			if ($4 != chsni[ks])
				other[ks] = other[ks] " " show($4)
			next
		}
		chsni[ks] = $4; key[++n] = k; order[n] = ks; tsk[k]++
	}
	END {
		for (i = 1; i <= n; i++) {
			k = key[i]; ks = order[i]
			want = chsni[ks] == "" ? "\001" : chsni[ks]
			extra = ""
			if (ks in other)
				extra = " (later ClientHello(s) in the stream:" other[ks] ")"
			got = ""; hit = 0
			for (j = 1; j <= tsn[k]; j++) {
				kj = k SUBSEP j
				if (!hit && !(kj in used) && tsv[kj] == want) {
					used[kj] = 1; hit = 1
				}
				got = got (got == "" ? "" : ",") show(tsv[kj])
			}
			if (hit) {
				printf "PASS: thirdparty: %s %s sni=%s%s\n", file, k, show(want), extra
				continue
			}
			if (tsn[k] == 0) {
				split(k, ep, " -> "); rk = ep[2] " -> " ep[1]
				got = (rk in tsn && tsn[rk] > 0) ? "(flow only as " rk ", client/server swapped)" : "(no flow)"
			}
			printf "FAIL: thirdparty: %s %s: tshark %s tamperscope %s%s\n", file, k, show(want), got, extra
		}
		# SNIs tamperscope found where tshark decoded no ClientHello
		for (k in tsn) {
			if (k in tsk)
				continue
			for (j = 1; j <= tsn[k]; j++)
				if (tsv[k SUBSEP j] != "\001")
					printf "INFO: thirdparty: %s %s: tamperscope sni=%s, tshark decoded no ClientHello\n", file, k, tsv[k SUBSEP j]
		}
		print "END"
	}' "$2" "$3"
}

check_file() {
	f=$1
	name=$(basename "$f")

	if ! tshark_scan "$f"; then
		fail "$name: tshark output could not be parsed"
		return
	fi
	ports=$(sort -n "$tmp/rawports")
	if [ -n "$ports" ]; then
		set --
		for p in $ports; do
			set -- "$@" -d "tcp.port==$p,tls"
		done
		echo "INFO: thirdparty: $name: ClientHello bytes on port(s)" \
			"$(echo "$ports" | tr '\n' ' ')not dissected as TLS; tshark rerun with $*"
		tshark_scan "$f" "$@" || { fail "$name: tshark output could not be parsed"; return; }
	fi
	nch=$(wc -l <"$tmp/ch")
	totch=$((totch + nch))

	"$TAMPERSCOPE" -r "$f" --events - -q >"$tmp/ev" 2>"$tmp/err"
	rc=$?
	if [ $rc -gt 128 ]; then
		fail "$name: tamperscope killed by signal $((rc - 128))"
		sed 's/^/    /' "$tmp/err" | tail -n 20
		return
	fi
	if grep -q -e 'Sanitizer' -e 'runtime error:' "$tmp/err"; then
		fail "$name: sanitizer report (exit $rc)"
		sed 's/^/    /' "$tmp/err" | tail -n 20
		return
	fi
	case $rc in
	0) echo "PASS: thirdparty: $name ran" ;;
	1)
		if [ -s "$tmp/err" ]; then
			echo "PASS: thirdparty: $name ran (exit 1: $(grep -v " packets (" "$tmp/err" | head -n 1))"
		else
			fail "$name: exit 1 without an error message"
		fi ;;
	*)
		fail "$name: tamperscope exited $rc"
		sed 's/^/    /' "$tmp/err" | tail -n 5
		return ;;
	esac

	if ! ts_events "$tmp/ev" >"$tmp/ts" 2>"$tmp/jqerr"; then
		fail "$name: events are not JSON lines ($(head -n 1 "$tmp/jqerr"))"
		return
	fi
	if [ "$nch" -gt 0 ] && [ ! -s "$tmp/ts" ]; then
		fail "$name: tamperscope printed no TCP events; tshark saw $nch ClientHello(s)"
		return
	fi

	# Match tshark streams (first ClientHello each) against tamperscope
	# events; each event satisfies at most one stream.
	compare "$name" "$tmp/ts" "$tmp/ch" >"$tmp/cmp"
	arc=$?
	if [ $arc -ne 0 ] || [ "$(tail -n 1 "$tmp/cmp")" != END ]; then
		fail "$name: comparison script failed"
		return
	fi
	sed '$d' "$tmp/cmp"
	nfail=$((nfail + $(grep -c '^FAIL: ' "$tmp/cmp")))

	# QUIC: the ClientHellos tshark found in decrypted Initials, against the UDP events.
	quic_scan "$f" || { fail "$name: tshark QUIC output could not be parsed"; return; }
	[ -s "$tmp/qch" ] || return
	ts_events "$tmp/ev" UDP >"$tmp/qts" 2>/dev/null
	compare "$name" "$tmp/qts" "$tmp/qch" >"$tmp/cmp"
	if [ "$(tail -n 1 "$tmp/cmp")" != END ]; then
		fail "$name: QUIC comparison script failed"
		return
	fi
	sed '$d' "$tmp/cmp" | sed 's/^\(PASS\|FAIL\): thirdparty: /&QUIC /'
	nquic=$((nquic + $(awk -F '\t' '{print $1}' "$tmp/qch" | sort -u | wc -l)))
	nquicpass=$((nquicpass + $(grep -c '^PASS: ' "$tmp/cmp")))
	nfail=$((nfail + $(grep -c '^FAIL: ' "$tmp/cmp")))
}

found=0
totch=0
nquic=0
nquicpass=0
for f in "$shared"/*.pcap "$shared"/*.pcapng; do
	[ -f "$f" ] || continue
	found=1
	check_file "$f"
done
# The project's own lab captures (QUIC lab included) are held to the same standard.
for f in "$srcdir"/pcaps/*.pcap; do
	[ -f "$f" ] && check_file "$f"
done
[ $found = 1 ] || fail "no *.pcap or *.pcapng in $shared"
# A tshark whose field names changed would find nothing and pass everything.
[ $found = 0 ] || [ $totch -gt 0 ] || fail "tshark decoded no ClientHello in any capture of $shared"
echo "INFO: thirdparty: QUIC: $nquicpass of $nquic connection attempts with a ClientHello in tshark's decrypted Initials agree"
[ -f "$shared/quic-27.pcap" ] && [ $nquic -eq 0 ] && fail "tshark decrypted no QUIC Initial (field names changed?)"
[ $nfail -eq 0 ]

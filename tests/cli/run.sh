#!/bin/sh
# tests/cli/run.sh - command line behaviour and bad input: every case prints
# PASS:/FAIL: lines.  Bad input must give one clear line on stderr and a
# non-zero exit; a capture cut mid-packet is still analysed up to the cut.
srcdir=${srcdir:-.}
T=${TAMPERSCOPE:-./src/tamperscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
LAB="$srcdir/pcaps/lab-interference.pcap"

pass() { echo "PASS: cli: $1"; }
fail() { echo "FAIL: cli: $1"; }
check() { # name, condition result
	if [ "$2" = 0 ]; then pass "$1"; else fail "$1"; fi
}
one_line_err() { # stderr file has exactly one line mentioning tamperscope
	[ "$(grep -c . "$1")" -eq 1 ] && grep -q '^tamperscope: ' "$1"
}
# A classic pcap file header, little endian, snaplen 65535, link type $1.
pcap_header() {
	lt=$1
	printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000'
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((lt & 255)) $((lt >> 8 & 255)) 0 0)"
}

# --help / --version / usage errors
"$T" --help >"$tmp/help" 2>&1; rc=$?
[ $rc = 0 ] && grep -q -- '--events' "$tmp/help"; check "--help exits 0 and lists options" $?
"$T" --version >"$tmp/ver" 2>&1; rc=$?
[ $rc = 0 ] && grep -Eq '^tamperscope [0-9]+\.[0-9]+' "$tmp/ver"; check "--version" $?
"$T" --no-such-option >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc = 2 ]; check "unknown option exits 2" $?
"$T" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc = 2 ] && one_line_err "$tmp/e"; check "no input: exit 2, one-line error" $?
"$T" -r "$LAB" --max-flows zero >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc = 2 ] && one_line_err "$tmp/e"; check "bad --max-flows value rejected" $?

# every long option of --help is documented in the man page
man="$srcdir/man/tamperscope.1"
missing=""
for opt in $(grep -Eo -- '--[a-z][a-z0-9-]+' "$tmp/help" | sort -u); do
	grep -q -- "$(echo "$opt" | sed 's/-/\\\\-/g')" "$man" || grep -q -- "$opt" "$man" || missing="$missing $opt"
done
[ -z "$missing" ]; check "man page documents every option${missing:+ (missing:$missing)}" $?

# missing file
"$T" -r "$tmp/nonexistent.pcap" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -ne 0 ] && one_line_err "$tmp/e" && grep -qi 'no such file' "$tmp/e"; check "missing file: one-line error, non-zero exit" $?

# not a capture file
echo "this is not a capture file, just text that is long enough" >"$tmp/text.pcap"
"$T" -r "$tmp/text.pcap" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -ne 0 ] && one_line_err "$tmp/e" && grep -q 'not a pcap or pcapng' "$tmp/e"; check "non-capture file: one-line error" $?

# empty capture (header only): fine, zero flows
pcap_header 1 >"$tmp/empty.pcap"
"$T" -r "$tmp/empty.pcap" --events "$tmp/ev" -q 2>"$tmp/e"; rc=$?
[ $rc = 0 ] && [ ! -s "$tmp/ev" ]; check "header-only capture: exit 0, no events" $?

# unknown link type
pcap_header 147 >"$tmp/user0.pcap"
"$T" -r "$tmp/user0.pcap" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -ne 0 ] && one_line_err "$tmp/e" && grep -q 'unsupported link type 147' "$tmp/e"; check "unknown link type: one-line error" $?

if [ ! -f "$LAB" ]; then
	fail "pcaps/lab-interference.pcap missing: cannot run capture cases"
	exit 0
fi
"$T" -r "$LAB" --events "$tmp/full.json" -q 2>"$tmp/e"; rc=$?
nfull=$(grep -c '"event_type":"flow"' "$tmp/full.json")
[ $rc = 0 ] && [ "$nfull" -gt 0 ]; check "lab capture analysed ($nfull flows)" $?

# exactly one event per flow: flow ids unique
dups=$(grep -o '"flow_id":[0-9]*' "$tmp/full.json" | sort | uniq -d | wc -l)
[ "$dups" = 0 ]; check "one event per flow (no duplicate flow_id)" $?

# stdin
"$T" -r - --events "$tmp/stdin.json" -q <"$LAB" 2>"$tmp/e"; rc=$?
[ $rc = 0 ] && [ "$(grep -c '"event_type":"flow"' "$tmp/stdin.json")" = "$nfull" ]; check "-r - reads stdin" $?

# several files in order: the same capture twice gives exactly twice the
# flows (the second copy starts before the first ended, so it is a separate
# capture: the first one's flows are finalised first)
"$T" -r "$LAB" -r "$LAB" --events "$tmp/two.json" -q 2>"$tmp/e"; rc=$?
n2=$(grep -c '"event_type":"flow"' "$tmp/two.json")
[ $rc = 0 ] && [ "$n2" = $((nfull * 2)) ]; check "two -r files read in order ($n2 flows)" $?
# a directory stands for its captures
mkdir "$tmp/dir" && cp "$LAB" "$tmp/dir/a.pcap" && cp "$LAB" "$tmp/dir/b.pcap" && echo x >"$tmp/dir/notes.txt"
"$T" -r "$tmp/dir" --events "$tmp/dir.json" -q 2>"$tmp/e"; rc=$?
[ $rc = 0 ] && [ "$(grep -c '"event_type":"flow"' "$tmp/dir.json")" = $((nfull * 2)) ]; check "-r DIR reads its capture files" $?

# trailing BPF expression filters
"$T" -r "$LAB" --events "$tmp/bpf.json" -q 'tcp port 1' 2>"$tmp/e"; rc=$?
[ $rc = 0 ] && [ ! -s "$tmp/bpf.json" ]; check "BPF filter excludes everything" $?
"$T" -r "$LAB" --events "$tmp/bpf2.json" -q tcp and port 443 2>"$tmp/e"; rc=$?
[ $rc = 0 ] && [ "$(grep -c '"event_type":"flow"' "$tmp/bpf2.json")" -gt 0 ]; check "multi-word BPF filter" $?
"$T" -r "$LAB" -q 'tcp port' >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -ne 0 ] && one_line_err "$tmp/e"; check "bad BPF expression: one-line error" $?

# capture cut mid-packet: analysed up to the cut, then non-zero exit
size=$(wc -c <"$LAB")
head -c $((size * 2 / 3)) "$LAB" >"$tmp/cut.pcap"
"$T" -r "$tmp/cut.pcap" --events "$tmp/cut.json" -q 2>"$tmp/e"; rc=$?
ncut=$(grep -c '"event_type":"flow"' "$tmp/cut.json")
[ $rc -ne 0 ] && grep -q 'cut mid-packet' "$tmp/e" && [ "$ncut" -gt 0 ] && [ "$(grep -c '^tamperscope: .*cut' "$tmp/e")" = 1 ]
check "capture cut mid-packet: flows before the cut reported ($ncut), error, non-zero exit" $?

# events are valid JSON, one object per line
if command -v jq >/dev/null 2>&1; then
	jq -e . "$tmp/full.json" >/dev/null 2>&1; check "events parse as JSON lines" $?
else
	fail "jq not installed (a declared test dependency)"
fi

# summary on stdout lists server names
"$T" -r "$LAB" >"$tmp/sum" 2>"$tmp/e"; rc=$?
[ $rc = 0 ] && grep -q '^server name' "$tmp/sum"; check "human summary on stdout" $?
grep -q 'packets' "$tmp/e"; check "run statistics on stderr" $?
exit 0

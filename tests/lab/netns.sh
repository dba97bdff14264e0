# netns.sh - what every lab (lab.sh, mitm.sh, vantage.sh, dnshttp.sh, quic.sh) shares: its environment and exit
# trap, the preflight's common part, the address guard, running a command in a namespace, frames as on a real wire
# (offloads off), tearing every namespace down, and the generate/check entry point.  Sourced, not run, by bash.
#
# The caller defines NAMESPACES (array of the namespaces it created), CAP_PID (tcpdump's pid, or empty), NS_R (its
# router namespace), LAB_NAME (its captures' name), LAB_TAG (its name in PASS/FAIL/SKIP lines), LAB_WORK (its work
# directory, or empty), LAB_TMPOUT (check's output directory, or empty) and LAB_SKIP_REASON (why it cannot run
# here); for lab_asn_db also LAB_ROOT (the source tree) and NET_IP / NET_ASN (each client network's address and ASN).

set -u
export LC_ALL=C
# curl must never be steered to a proxy outside the lab.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# The EXIT trap: namespaces and their processes go; LAB_KEEP=1 keeps the work directory (certificates, logs, raw
# capture) for debugging.
# shellcheck disable=SC2317  # run by the EXIT trap
lab_cleanup() {
	lab_teardown
	[ -n "${LAB_WORK:-}" ] && [ "${LAB_KEEP:-0}" != 1 ] && rm -rf "$LAB_WORK"
	[ -n "${LAB_TMPOUT:-}" ] && rm -rf "$LAB_TMPOUT"
}
trap lab_cleanup EXIT
trap 'exit 130' INT TERM

# lab_need_base TOOL...: root, every TOOL, and the router namespace NS_R created (the last step, so a lab's own
# checks that need it follow).  False with LAB_SKIP_REASON set where one is missing.
lab_need_base() {
	local tool
	LAB_SKIP_REASON=""
	if [ "$(id -u)" != 0 ]; then
		LAB_SKIP_REASON="not root (network namespaces need root)"
		return 1
	fi
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || { LAB_SKIP_REASON="$tool not installed"; return 1; }
	done
	if ! ip netns add "$NS_R" >/dev/null 2>&1; then
		LAB_SKIP_REASON="cannot create network namespaces (ip netns add failed)"
		return 1
	fi
	NAMESPACES+=("$NS_R")
}

# True only for addresses inside 198.18.0.0/15 (RFC 2544 benchmarking range): a guard against a typo ever sending
# lab traffic elsewhere.
lab_addr_ok() {
	case "$1" in
	198.18.* | 198.19.*) return 0 ;;
	*) return 1 ;;
	esac
}

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# Frames must be MTU-sized as on a real wire: no segmentation or receive offloads, real checksums.
lab_no_offload() {
	local ns=$1 ifc=$2 feat
	nsx "$ns" ethtool -K "$ifc" tso off gso off gro off tx off rx off sg off >/dev/null 2>&1
	for feat in tcp-segmentation-offload generic-segmentation-offload generic-receive-offload; do
		if nsx "$ns" ethtool -k "$ifc" 2>/dev/null | grep -q "^$feat: on"; then
			echo "lab: cannot turn off $feat on $ifc" >&2
			return 1
		fi
	done
}

# lab_tcpdump NS IFACE FILE FILTER: tcpdump on NS's IFACE into FILE, whole frames, each written as it comes (-U),
# started directly (ip netns exec execs it) so that LAB_TCPDUMP_PID is tcpdump itself, a child this shell can wait
# for.  False, saying why (its messages go to FILE.log), when it is not listening within 5 s.
lab_tcpdump() {
	local ns=$1 ifc=$2 file=$3 filter=$4
	ip netns exec "$ns" tcpdump -i "$ifc" -U -s 0 -n -Z root -w "$file" "$filter" </dev/null >/dev/null \
		2>"$file.log" &
	LAB_TCPDUMP_PID=$!
	for _ in $(seq 50); do
		grep -q "listening on" "$file.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$LAB_TAG: tcpdump on $ns/$ifc did not start: $(head -1 "$file.log")" >&2
	kill "$LAB_TCPDUMP_PID" 2>/dev/null
	return 1
}

# lab_start_capture FILTER: the capture of every lab, on the router's client side (r0) into LAB_WORK/cap.pcap.
lab_start_capture() {
	lab_tcpdump "$NS_R" r0 "$LAB_WORK/cap.pcap" "$1" && CAP_PID=$LAB_TCPDUMP_PID
}

# lab_stop_capture: SIGTERM, not SIGINT (a non-interactive shell starts background jobs with SIGINT ignored);
# tcpdump flushes and closes the file.
lab_stop_capture() {
	kill -TERM "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=""
}

# Flows started in the background ("bg") between batch_begin and batch_end run side by side; batch_end waits for
# them all, then half a second for their last packets.
batch_begin() { BATCH_PIDS=(); }
batch_end() {
	local pid
	for pid in "${BATCH_PIDS[@]}"; do
		wait "$pid"
	done
	sleep 0.5
}

# lab_capture_diff TRUTH_LINE...: the (client, server) pairs of the TCP/UDP port-443 flows in LAB_WORK/cap.pcap
# against the first two fields of the truth lines; prints the first differences, nothing when the capture holds
# exactly the truth's flows.
lab_capture_diff() {
	tcpdump -nn -r "$LAB_WORK/cap.pcap" 2>/dev/null | awk '
		$2 == "IP" {
			s = $3; d = $5; sub(/:$/, "", d)
			n = split(s, a, "."); sp = a[n]; si = a[1] "." a[2] "." a[3] "." a[4]
			n = split(d, b, "."); dp = b[n]; di = b[1] "." b[2] "." b[3] "." b[4]
			if (dp == 443) print si ":" sp "\t" di ":" dp; else print di ":" dp "\t" si ":" sp
		}' | sort -u >"$LAB_WORK/cap.pairs"
	[ $# -gt 0 ] && printf '%s\n' "$@" | cut -f1,2 | sort -u >"$LAB_WORK/truth.pairs"
	cmp -s "$LAB_WORK/cap.pairs" "$LAB_WORK/truth.pairs" ||
		diff "$LAB_WORK/truth.pairs" "$LAB_WORK/cap.pairs" | grep '^[<>]' | head -5 | tr '\n' ' '
}

# Stop the capture (SIGTERM: a non-interactive shell starts background jobs with SIGINT ignored; tcpdump flushes
# and closes the file on either), kill what runs in the namespaces, delete them.
lab_teardown() {
	local ns pids=()
	if [ -n "$CAP_PID" ]; then
		kill -TERM "$CAP_PID" 2>/dev/null
		wait "$CAP_PID" 2>/dev/null
		CAP_PID=""
	fi
	for ns in "${NAMESPACES[@]}"; do
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		[ "${#pids[@]}" -gt 0 ] && kill "${pids[@]}" 2>/dev/null
	done
	sleep 0.2
	for ns in "${NAMESPACES[@]}"; do
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		[ "${#pids[@]}" -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	NAMESPACES=()
	wait 2>/dev/null
}

# lab_asn_db OUT SERVERS_PREFIX SERVERS_ASN: an IPv4 ASN database (tools/mktest-mmdb.pl) naming each client
# network's /24 (its address ends in .10) "Lab NETWORK" with its ASN, and the servers' prefix "Lab servers".
lab_asn_db() {
	local out=$1 srv=$2 srv_asn=$3 net
	{
		for net in "${!NET_IP[@]}"; do
			echo "${NET_IP[$net]%.10}.0/24,${NET_ASN[$net]},Lab $net"
		done
		echo "$srv,$srv_asn,Lab servers"
	} | perl "$LAB_ROOT/tools/mktest-mmdb.pl" --ipv4-only --out "$out"
}

# lab_check_truth DIR TAMPERSCOPE: every flow of DIR/LAB_NAME.pcap against DIR/LAB_NAME.truth, one PASS/FAIL line
# each (tests/golden/check-truth.sh).
lab_check_truth() {
	bash "$LAB_ROOT/tests/golden/check-truth.sh" "$1/$LAB_NAME.pcap" "$1/$LAB_NAME.truth" "$2"
}

# lab_tamperscope BUILDDIR: prints the absolute path of BUILDDIR's tamperscope; where it is not built or jq (which
# every check needs) is missing, prints the SKIP line instead and is false.
lab_tamperscope() {
	local ts="$1/src/tamperscope"
	[ -x "$ts" ] || { echo "SKIP: $LAB_TAG: $ts not built"; return 1; }
	command -v jq >/dev/null 2>&1 || { echo "SKIP: $LAB_TAG: jq not installed"; return 1; }
	echo "$(cd "$(dirname "$ts")" && pwd)/$(basename "$ts")"
}

# lab_main GENERATE CHECK MODE DIR: the entry point of every lab.
#   generate OUTDIR  GENERATE OUTDIR writes the captures and truths; it returns 2, LAB_SKIP_REASON saying why,
#                    where the lab cannot run, which is an error here
#   check BUILDDIR   GENERATE into LAB_TMPOUT (a temporary directory the EXIT trap removes), then
#                    CHECK LAB_TMPOUT TAMPERSCOPE prints PASS/FAIL lines and is false on a failure; one
#                    "SKIP: LAB_TAG: why" line where the lab cannot run
# A lab with modes of its own handles them before calling this.
lab_main() {
	local gen=$1 chk=$2 mode=${3:-} dir=${4:-} rc ts
	case "$mode" in
	generate)
		[ -n "$dir" ] || { echo "usage: $0 generate OUTDIR" >&2; exit 2; }
		"$gen" "$dir"
		rc=$?
		[ "$rc" = 2 ] && { echo "$LAB_TAG: cannot run here: $LAB_SKIP_REASON" >&2; exit 1; }
		exit "$rc"
		;;
	check)
		[ -n "$dir" ] || { echo "usage: $0 check BUILDDIR" >&2; exit 2; }
		ts=$(lab_tamperscope "$dir") || { echo "$ts"; exit 0; }
		LAB_TMPOUT=$(mktemp -d "/tmp/$LAB_TAG-out.XXXXXX") || exit 1
		# Not in a subshell: the EXIT trap must see every namespace this run creates.
		"$gen" "$LAB_TMPOUT" 2>"$LAB_TMPOUT/generate.log"
		rc=$?
		[ "$rc" = 2 ] && { echo "SKIP: $LAB_TAG: $LAB_SKIP_REASON"; exit 0; }
		if [ "$rc" != 0 ]; then
			echo "FAIL: $LAB_TAG: generating the capture failed: $(grep -v ': wrote ' "$LAB_TMPOUT/generate.log" | head -3 | tr '\n' ' ')"
			exit 1
		fi
		"$chk" "$LAB_TMPOUT" "$ts"
		exit $?
		;;
	*)
		echo "usage: $0 generate OUTDIR | $0 check BUILDDIR${LAB_MORE_USAGE:-}" >&2
		exit 2
		;;
	esac
}

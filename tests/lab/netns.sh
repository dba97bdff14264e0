# netns.sh - what the labs (lab.sh, mitm.sh) share: the address guard, running a command in a namespace, frames
# as on a real wire (offloads off), and tearing every namespace down.  Sourced, not run.
#
# The caller defines NAMESPACES (array of the namespaces it created) and CAP_PID (tcpdump's pid, or empty); for
# lab_asn_db also ROOT (the source tree) and NET_IP / NET_ASN (each client network's address and ASN).

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
	} | perl "$ROOT/tools/mktest-mmdb.pl" --ipv4-only --out "$out"
}

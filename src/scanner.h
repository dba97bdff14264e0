/* scanner.h - clients that scan: many connection attempts to distinct
 * targets in a short time, few of them answered.
 *
 * An nmap SYN scan, a worm, or a P2P client calling departed peers fills a
 * network's flows with SYNs that time out or meet closed ports; none of that
 * is interference, and Cloudflare's passive tampering study (SIGCOMM'23)
 * left scanners out for that reason.  Per client address, over a sliding
 * window of packet time, the number of distinct (server, port) targets of
 * its new TCP connections is estimated (linear counting, Whang et al.
 * 1990, in a 512-bit map: exact enough from 1 to a few thousand) and the
 * connections the server answered (SYN-ACK) are counted.  A client is a
 * scanner for a window in which it tried at least SCANNER_MIN_TARGETS
 * distinct targets and at most a quarter of its attempts were answered; a
 * browser opening many connections is answered, a censored user retries
 * few targets.  Its flows are marked (evidence.scanner) and the report
 * leaves them out of its conclusions.
 *
 * Memory is bounded: at most `max_clients` entries (htab, seeded); a client
 * past the cap is not tracked (counted), which only means its flows are not
 * marked.
 */
#ifndef TS_SCANNER_H
#define TS_SCANNER_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "htab.h"

#define SCANNER_WINDOW_US (60ULL * 1000000)  /* sliding window of packet time */
#define SCANNER_MIN_TARGETS 100              /* distinct targets in a window */
#define SCANNER_MAP_BITS 512
/* The current window is judged before it ends only once this much packet
 * time has passed since it began: the answers to its attempts are in. */
#define SCANNER_ANSWER_GRACE_US (5ULL * 1000000)
#define SCANNER_DEFAULT_CLIENTS 65536

struct scanner_stats {
	uint64_t clients;          /* clients tracked */
	uint64_t clients_dropped;  /* not tracked: the cap was reached */
	uint64_t scanners;         /* clients found scanning (once each) */
};

struct scanners;

struct scanners *scanners_new(unsigned max_clients, const struct hseed *seed);
void scanners_free(struct scanners *s);

/* Client `cli` opened a new TCP connection (its SYN) to srv:port at ts_us. */
void scanners_attempt(struct scanners *s, const struct ts_addr *cli, const struct ts_addr *srv,
		      uint16_t port, uint64_t ts_us);
/* The server answered one of cli's connections (SYN-ACK) at ts_us. */
void scanners_answered(struct scanners *s, const struct ts_addr *cli, uint64_t ts_us);

/* Was cli scanning in a window around a flow that started at start_us
 * (now_us: the packet clock)? */
bool scanners_is_scanner(struct scanners *s, const struct ts_addr *cli, uint64_t start_us,
			 uint64_t now_us);

const struct scanner_stats *scanners_stats(const struct scanners *s);

#endif

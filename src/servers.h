/* servers.h - what the verdict stage remembers of each server across its
 * flows: the IP TTL (hop limit) its own packets arrive with.
 *
 * A SYN answered by a RST has no SYN-ACK to compare the RST with: a closed
 * port answers with the server's own TTL, an injector on the path with its
 * own.  The server's TTL seen in other flows (its SYN-ACKs, taken once per
 * flow when the flow is recorded) tells the two apart.  At most `cap`
 * servers are remembered; past the cap new ones are not (counted), which
 * only means less evidence.  Addresses come from the wire: an htab keyed
 * with the start-up seed.
 */
#ifndef TS_SERVERS_H
#define TS_SERVERS_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

struct hseed;
struct servers;

#define SERVERS_DEFAULT_CAP 65536

struct servers_stats {
	uint64_t known;          /* servers remembered */
	uint64_t dropped;        /* not remembered: the cap */
};

struct servers *servers_new(unsigned cap, const struct hseed *seed);
void servers_free(struct servers *s);

/* The server answered a flow's SYN with this TTL. */
void servers_note_ttl(struct servers *s, const struct ts_addr *srv, uint8_t ttl);
/* The TTL remembered for srv; false when none. */
bool servers_ttl(const struct servers *s, const struct ts_addr *srv, uint8_t *ttl);

const struct servers_stats *servers_stats(const struct servers *s);

#endif

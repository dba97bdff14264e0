/* dnsmap.h - what DNS answers said (RFC 1035 section 3.4.1, RFC 3596):
 * which name each client resolved to each address, and which networks
 * were given which addresses for a name.
 *
 * Two uses.  A TCP or QUIC flow without a name of its own (no SNI: an old
 * client, or a SYN that never got an answer) is attributed the name its
 * client resolved to the server address just before (name_from_dns).
 * And a flow with a forged or untrusted certificate is told apart: its
 * server address came from an answer other networks are not given for
 * that name (DNS manipulation: the client was sent elsewhere), or other
 * networks are given that same address (the genuine server, so the
 * certificate was forged on the path: interception).
 *
 * Both tables are htabs keyed with the start-up seed, each capped at
 * `max` entries; at the cap the oldest entry is dropped (counted), so the
 * map holds the most recent answers.  A network is the client's ASN when
 * known, else its /24 (IPv4) or /48 (IPv6).
 */
#ifndef TS_DNSMAP_H
#define TS_DNSMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "dns.h"

#define DNSMAP_DEFAULT_MAX 65536
/* A name is attributed only from an answer at most this old: long enough
 * for a page's later connections, short enough that a reused address does
 * not inherit a stale name. */
#define DNSMAP_MAX_AGE_US (3600ULL * 1000000)
/* Networks remembered per (name, address); more are only counted as
 * "more". */
#define DNSMAP_NETS 4

enum dns_origin {
	DNSO_UNKNOWN = 0,            /* nothing to compare with */
	DNSO_MANIPULATION,           /* the address came from an answer other networks do not get */
	DNSO_INTERCEPTION,           /* other networks get the same address: genuine */
};
/* "unknown", "dns_manipulation", "interception" */
const char *dns_origin_name(enum dns_origin o);

struct dnsmap_stats {
	uint64_t noted;              /* (client, address) answers noted */
	uint64_t evicted;            /* entries dropped at the cap */
	uint64_t alloc_failed;
};

struct hseed;
struct dnsmap;

struct dnsmap *dnsmap_new(uint32_t max, const struct hseed *seed);
void dnsmap_free(struct dnsmap *m);
/* Forget everything (a separate capture begins). */
void dnsmap_clear(struct dnsmap *m);

/* Client cli on network net was told at ts_us that name resolves to the n
 * addresses. */
void dnsmap_note(struct dnsmap *m, const struct ts_addr *cli, uint64_t net, const char *name,
		 const struct ts_addr *addrs, unsigned n, uint64_t ts_us);

/* The name client cli resolved to addr last, at or before ts_us and at
 * most DNSMAP_MAX_AGE_US before it; NULL when none.  Valid until the next
 * note. */
const char *dnsmap_name(const struct dnsmap *m, const struct ts_addr *cli,
			const struct ts_addr *addr, uint64_t ts_us);

/* Where a flow of network net to addr, for name, got its address. */
enum dns_origin dnsmap_origin(const struct dnsmap *m, const char *name,
			      const struct ts_addr *addr, uint64_t net);

/* The network key of a client: its ASN when known, else its /24 or /48. */
uint64_t dnsmap_net_key(uint32_t asn, const struct ts_addr *cli);

const struct dnsmap_stats *dnsmap_stats(const struct dnsmap *m);

#endif

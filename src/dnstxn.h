/* dnstxn.h - the DNS stage: messages from UDP datagrams and TCP streams
 * (RFC 1035 sections 4.2.1 and 4.2.2, RFC 7766 section 8) paired into
 * transactions by (client, resolver, id, question).
 *
 * A transaction opens with a query and stays open for a window (the stall
 * timeout, packet time) collecting every response to it: an on-path
 * injector's answer arrives first and the resolver's own one after it, so
 * a transaction is only finished when the window has passed (or the input
 * ends).  Then the engine turns it into one record (verdict_dns.c decides).
 * The table is an htab keyed with the start-up seed and capped; when full
 * the oldest transaction is finished early (counted).  Each resolver's
 * answered transactions are remembered (capped too) so that an unanswered
 * query can be told from a resolver that is down or out of view.
 *
 * A flow that carried DNS messages is reported as its transactions: its
 * own record is not written (dns_flow_represented).
 */
#ifndef TS_DNSTXN_H
#define TS_DNSTXN_H

#include <stdbool.h>
#include <stdint.h>

#include "dns.h"
#include "flow.h"
#include "htab.h"

/* Responses kept in detail per transaction; more are counted. */
#define DNSTXN_MAX_RESPONSES 4
/* A DNS message over TCP larger than this is skipped (counted): real
 * answers are a few kilobytes, zone transfers are not what this is for. */
#define DNSTXN_TCP_MSG_MAX 16384
#define DNSTXN_DEFAULT_MAX 65536
#define DNSTXN_MAX_RESOLVERS 4096

struct dns_response {
	uint64_t ts_us;
	uint8_t ip_ttl;
	uint16_t ip_id;
	uint8_t ip_version;
	uint16_t rcode;
	bool aa, tc;
	uint16_t answers;
	struct ts_addr addrs[DNS_MAX_ADDRS];
	uint8_t n_addrs;
	bool has_ttl;
	uint32_t min_ttl;
	char cname[DNS_NAME_TEXT_MAX + 2];
};

struct dns_txn {
	struct dns_txn *older, *newer;   /* the stage's list, by query time */
	uint64_t hash;
	/* the key: who asked whom what */
	struct ts_addr cli, srv;
	uint16_t cport, sport;
	uint16_t id;
	uint16_t qtype, qclass;
	uint16_t qname_len;
	char qname[DNS_NAME_TEXT_MAX + 2];
	uint8_t proto;                   /* 17 UDP, 6 TCP */
	uint64_t flow_id;                /* the flow of the query */
	uint64_t query_us, last_us;
	uint16_t queries;                /* the query and its retransmissions */
	uint8_t query_ttl;
	bool rd, edns, edns_do;
	uint16_t edns_udp_size;
	uint16_t responses;              /* all responses, also those not kept */
	uint8_t n_resp;
	struct dns_response resp[DNSTXN_MAX_RESPONSES];
	uint32_t pkts[2];
	uint64_t bytes[2];
	/* filled when it finishes */
	uint64_t resolver_answered;      /* other transactions this resolver answered */
};

struct dnstxn_stats {
	uint64_t messages;               /* parsed whole */
	uint64_t queries, responses;
	uint64_t truncated;              /* the capture cut the message (snaplen, TCP stream end) */
	uint64_t malformed;              /* the bytes contradict themselves (or overran the datagram) */
	uint64_t bad[DNSB__COUNT];       /* malformed, by reason */
	uint64_t rr_cap;                 /* messages with more than DNS_MAX_RRS records */
	uint64_t not_query;              /* opcode other than QUERY: not paired */
	uint64_t unmatched;              /* responses to no open query (late, or the query not seen) */
	uint64_t resp_dropped;           /* responses beyond DNSTXN_MAX_RESPONSES */
	uint64_t txns, txns_evicted;     /* opened; finished early by the cap */
	uint64_t txns_refused;           /* no memory, or the table refused */
	uint64_t resolvers_full;         /* resolver memory cap hit */
	uint64_t tcp_midstream, tcp_gaps, tcp_oversize, tcp_alloc_failed;
};

enum dnstxn_end { DNSTXN_WINDOW = 0, DNSTXN_EVICTED, DNSTXN_EOF, DNSTXN_SHUTDOWN };

/* A finished transaction (valid during the call only). */
typedef void (*dnstxn_done_fn)(void *arg, const struct dns_txn *t, enum dnstxn_end why);
/* A response with addresses, for the name map (valid during the call). */
typedef void (*dnstxn_answer_fn)(void *arg, const struct dns_txn *t,
				 const struct dns_response *r);

struct dnstxn_cfg {
	uint32_t max_txns;               /* 0: DNSTXN_DEFAULT_MAX */
	uint64_t window_us;              /* how long a query collects responses */
	const struct hseed *seed;
	dnstxn_done_fn done;
	dnstxn_answer_fn answer;         /* NULL: none */
	void *arg;
};

struct dnstxn;

struct dnstxn *dnstxn_new(const struct dnstxn_cfg *cfg);
void dnstxn_free(struct dnstxn *ds);  /* finishes nothing: flush first */

/* One UDP or TCP packet of flow f (either port 53), direction dir. */
void dnstxn_packet(struct dnstxn *ds, struct flow *f, const struct ts_packet *p, int dir);
/* Finish every transaction whose window has passed at packet time now_us. */
void dnstxn_expire(struct dnstxn *ds, uint64_t now_us);
/* Finish every open transaction. */
void dnstxn_flush(struct dnstxn *ds, enum dnstxn_end why);
/* Forget everything remembered across transactions (a separate capture). */
void dnstxn_forget(struct dnstxn *ds);

/* The flow carried DNS messages: its transactions are its records. */
bool dns_flow_represented(const struct flow *f);
/* Free the flow's DNS state (at the flow's end). */
void dns_flow_release(struct flow *f);

const struct dnstxn_stats *dnstxn_stats(const struct dnstxn *ds);

/* Do two responses carry the same answer (rcode, address set, CNAME)? */
bool dns_response_same_answer(const struct dns_response *a, const struct dns_response *b);

#endif

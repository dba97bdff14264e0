/* verdict_dns.c - the verdict of a DNS transaction (rules in
 * verdict_dns.h; RFC 1035 section 4.1.1 rcodes, RFC 6890 special-purpose
 * addresses, RFC 2606 and RFC 6761 special-use names). */
#include <string.h>

#include "blockpage.h"
#include "verdict_dns.h"

bool dns_addr_is_bogon(const struct ts_addr *a)
{
	const uint8_t *b = a->a;
	if (a->v4) {
		b += 12;
		return b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
		       (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
		       b[0] >= 240;
	}
	static const uint8_t zero[16];
	if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
		return true;                             /* :: and ::1 */
	return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

bool dns_name_is_public(const char *name)
{
	static const char *const local[] = { "example", "test", "invalid", "localhost", "local",
					     "lan", "home", "internal", "intranet", "corp",
					     "private", "localdomain", "arpa", "onion" };
	const char *dot = strrchr(name, '.');
	if (!dot || dot == name || dot[1] == '\0')
		return false;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strcmp(dot + 1, local[i]) == 0)
			return false;
	return true;
}

static uint64_t since(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

/* Which signs say response a (first) did not come from the sender of b
 * (the last, the resolver's own)?  INJ_* bits. */
static unsigned unlike(const struct dns_txn *t, const struct dns_response *a,
		       const struct dns_response *b)
{
	unsigned why = 0;
	if (a->ip_ttl != b->ip_ttl)
		why |= INJ_TTL;
	int32_t d = (int16_t)(uint16_t)(a->ip_id - b->ip_id);
	if (a->ip_version == 4 && b->ip_version == 4 && a->ip_id && b->ip_id &&
	    (d > 1000 || d < -1000))
		why |= INJ_IPID;
	if (t->queries <= 1 && a->has_ttl && b->has_ttl && a->min_ttl != b->min_ttl)
		why |= INJ_DNS_TTL;
	return why;
}

static bool injection(struct verdict_result *r, const struct dns_txn *t)
{
	if (t->n_resp < 2)
		return false;
	const struct dns_response *first = &t->resp[0], *last = &t->resp[t->n_resp - 1];
	if (dns_response_same_answer(first, last))
		return false;
	unsigned why = unlike(t, first, last);
	if (!why)
		return false;
	r->injected = true;
	r->injected_reasons = why;
	r->ev |= EV_RST_INJ;
	for (unsigned i = 0; i + 1 < t->n_resp; i++)
		if (!dns_response_same_answer(&t->resp[i], last) && unlike(t, &t->resp[i], last))
			r->dns_forged |= (uint8_t)(1u << i);
	for (unsigned i = 0; i < first->n_addrs; i++)
		if (dns_addr_is_bogon(&first->addrs[i]))
			r->reason = "bogon";
	return true;
}

static bool blockpage(const struct blockpages *bp, struct verdict_result *r,
		      const struct dns_txn *t, const struct dns_response *resp)
{
	for (unsigned i = 0; i < resp->n_addrs; i++) {
		const struct blockpage *b = blockpages_addr(bp, &resp->addrs[i]);
		if (b) {
			r->blockpage = b;
			r->reason = "blockpage_address";
			return true;
		}
	}
	if (resp->cname[0] && (r->blockpage = blockpages_cname(bp, resp->cname))) {
		r->reason = "blockpage_cname";
		return true;
	}
	if (!dns_name_is_public(t->qname))
		return false;
	for (unsigned i = 0; i < resp->n_addrs; i++)
		if (dns_addr_is_bogon(&resp->addrs[i])) {
			r->reason = "bogon";
			return true;
		}
	return false;
}

static enum verdict unanswered(const struct verdict_cfg *cfg, struct verdict_result *r,
			       const struct dns_txn *t, enum dnstxn_end why, uint64_t now_us)
{
	r->silence_us = since(t->query_us, now_us);
	if (why != DNSTXN_WINDOW && r->silence_us < cfg->stall_us) {
		r->reason = "capture_ended";
		return V_INCOMPLETE;
	}
	if (t->resolver_answered > 0) {
		r->blocked_at_us = t->query_us;
		return V_DNS_TIMEOUT;
	}
	r->reason = "resolver_silent";
	r->one_direction = true;
	return V_INCOMPLETE;
}

static void dns_history(struct verdict_result *r, const struct dns_txn *t)
{
	size_t n = 0;
	if (t->queries)
		r->history[n++] = 'D';
	if (t->responses)
		r->history[n++] = 'd';
	r->history[n] = '\0';
}

static const char *dns_end(enum dnstxn_end why, bool answered)
{
	switch (why) {
	case DNSTXN_EVICTED: return "evicted";
	case DNSTXN_EOF: return "end_of_input";
	case DNSTXN_SHUTDOWN: return "shutdown";
	default: return answered ? "answered" : "timeout";
	}
}

void verdict_dns_decide(const struct verdict_cfg *cfg, const struct blockpages *bp,
			const struct dns_txn *t, enum dnstxn_end why, uint64_t now_us,
			struct verdict_result *r)
{
	memset(r, 0, sizeof(*r));
	/* No handshake to time: only a given vantage is known. */
	if (cfg->vantage != VANTAGE_AUTO) {
		r->vantage = cfg->vantage;
		r->vantage_by = VB_OPTION;
	}
	r->signature = "none";
	r->end = dns_end(why, t->n_resp > 0);
	dns_history(r, t);
	if (t->n_resp == 0) {
		r->verdict = unanswered(cfg, r, t, why, why == DNSTXN_WINDOW ? t->query_us +
					cfg->stall_us : now_us);
		return;
	}
	const struct dns_response *first = &t->resp[0];
	r->ev |= EV_DNS;
	r->dns_rcode = first->rcode;
	r->silence_us = since(t->query_us, first->ts_us);
	if (injection(r, t)) {
		r->blocked_at_us = first->ts_us;
		r->verdict = V_DNS_INJECTION;
	} else if (blockpage(bp, r, t, first)) {
		r->blocked_at_us = first->ts_us;
		r->verdict = V_DNS_BLOCKPAGE;
	} else if (first->rcode == DNS_RCODE_NXDOMAIN || first->rcode == DNS_RCODE_SERVFAIL ||
		   first->rcode == DNS_RCODE_REFUSED) {
		r->verdict = V_DNS_ERROR;
	} else {
		r->verdict = V_OK;
	}
}

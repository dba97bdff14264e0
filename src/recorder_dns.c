/* recorder_dns.c - the records of the DNS stage and what DNS answers and
 * plain HTTP add to TCP records: one record per DNS transaction (RFC 1035
 * section 7.3), the HTTP verdict (RFC 9112), name_from_dns, and whether a
 * forged certificate's server address came from a manipulated answer. */
#include <stdio.h>
#include <string.h>

#include "asn.h"
#include "dnsmap.h"
#include "dnstxn.h"
#include "http.h"
#include "recorder.h"
#include "tls.h"
#include "verdict_http.h"

static enum flow_end txn_end(int why)
{
	switch (why) {
	case DNSTXN_EVICTED: return FLOW_END_EVICTED;
	case DNSTXN_EOF: return FLOW_END_EOF;
	case DNSTXN_SHUTDOWN: return FLOW_END_SHUTDOWN;
	default: return FLOW_END_CLOSED;
	}
}

void record_build_dns(struct recorder *rc, const struct dns_txn *t, int why,
		      const struct verdict_result *vr, struct flow_record *out)
{
	memset(out, 0, sizeof(*out));
	out->flow_id = t->flow_id;
	out->first_us = t->query_us;
	out->last_us = t->last_us;
	out->cli = t->cli;
	out->srv = t->srv;
	out->cport = t->cport;
	out->sport = t->sport;
	out->proto = t->proto;
	out->client_by = ROLE_PORT;
	out->why = txn_end(why);
	memcpy(out->pkts, t->pkts, sizeof(out->pkts));
	memcpy(out->bytes, t->bytes, sizeof(out->bytes));
	out->app_proto = "DNS";
	snprintf(out->app_detail, sizeof(out->app_detail), "DNS");
	out->dns = t;
	out->vr = *vr;
	out->reachable = t->n_resp > 0;
	out->client_as = (struct asn_info){ 0, ASN_UNKNOWN_ORG };
	out->server_as = (struct asn_info){ 0, ASN_UNKNOWN_ORG };
	if (rc->asn) {
		asn_lookup(rc->asn, &t->cli, &out->client_as);
		asn_lookup(rc->asn, &t->srv, &out->server_as);
	}
	if (rc->anonymize_clients)
		anonymize_addr(&out->cli);
}

void record_dns_answer(struct recorder *rc, const struct dns_txn *t,
		       const struct dns_response *r)
{
	if (!rc->dnsmap)
		return;
	struct asn_info as = { 0, ASN_UNKNOWN_ORG };
	if (rc->asn)
		asn_lookup(rc->asn, &t->cli, &as);
	dnsmap_note(rc->dnsmap, &t->cli, dnsmap_net_key(as.asn, &t->cli), t->qname, r->addrs,
		    r->n_addrs, r->ts_us);
}

/* The flow's own name, lower-cased into buf: its SNI, else its Host. */
static const char *own_name(const struct flow *f, char *buf, size_t len)
{
	const char *s = NULL;
	size_t n = 0;
	if (f->tls && f->tls->sni_present && f->tls->sni_len) {
		s = f->tls->sni;
		n = f->tls->sni_len;
	} else if (f->http && f->http->host[0]) {
		s = f->http->host;
		n = strcspn(s, ":");          /* Host may carry a port */
	}
	if (!s || n >= len)
		return NULL;
	for (size_t i = 0; i < n; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	buf[n] = '\0';
	return buf;
}

void record_http_refine(struct recorder *rc, const struct flow *f, uint64_t now_us,
			struct flow_record *out)
{
	out->http = f->http;
	if (f->http)
		verdict_http_apply(rc->vcfg, rc->bp, f, now_us, &out->vr);
}

void record_dns_link(struct recorder *rc, const struct flow *f, struct flow_record *out)
{
	if (!rc->dnsmap || f->proto != 6)
		return;
	char name[DNS_NAME_TEXT_MAX + 2];
	const char *own = own_name(f, name, sizeof(name));
	const char *resolved = dnsmap_name(rc->dnsmap, &f->cli, &f->srv, f->first_us);
	if (!own && resolved) {
		snprintf(rc->dns_name, sizeof(rc->dns_name), "%s", resolved);
		out->vr.name_from_dns = rc->dns_name;
	}
	if (out->vr.verdict != V_TLS_MITM && out->vr.verdict != V_TLS_UNTRUSTED_CERT)
		return;
	if (!own)
		own = out->vr.name_from_dns;
	if (own)
		out->vr.dns_origin = (uint8_t)dnsmap_origin(
			rc->dnsmap, own, &f->srv, dnsmap_net_key(out->client_as.asn, &f->cli));
}

const char *record_name(const struct flow_record *r, size_t *len)
{
	const char *sni = record_sni(r, len);
	if (sni && *len)
		return sni;
	if (r->http && r->http->host[0]) {
		*len = strcspn(r->http->host, ":");
		return *len ? r->http->host : NULL;
	}
	if (r->dns) {
		*len = r->dns->qname_len;
		return r->dns->qname;
	}
	if (r->vr.name_from_dns) {
		*len = strlen(r->vr.name_from_dns);
		return r->vr.name_from_dns;
	}
	return NULL;
}

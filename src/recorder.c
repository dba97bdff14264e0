/* recorder.c - the verdict stage's last step: a finished flow becomes its
 * record.  The TCP rules have decided (verdict_decide); here the chain,
 * validated at the packet time of the ServerHello, refines that verdict,
 * the residual window marks failures that follow a block, both ends get
 * their networks, and the client address is cut last, after every lookup
 * that needs it.  Below, the records of the DNS stage and what DNS answers
 * and plain HTTP add to TCP records: one record per DNS transaction (RFC
 * 1035 section 7.3), the HTTP verdict (RFC 9112), name_from_dns, and
 * whether a forged certificate's server address came from a manipulated
 * answer. */
#include <stdio.h>
#include <string.h>

#include "asn.h"
#include "cert.h"
#include "classify.h"
#include "dnsmap.h"
#include "dnstxn.h"
#include "http.h"
#include "quic.h"
#include "record.h"
#include "recorder.h"
#include "residual.h"
#include "scanner.h"
#include "servers.h"
#include "tls.h"
#include "util.h"
#include "verdict_http.h"

/* The chain, validated at the time of the ServerHello, may turn an ok
 * handshake into tls_mitm or tls_untrusted_cert. */
static const struct cert_analysis *refine_by_cert(struct recorder *rc, const struct flow *f,
						  struct verdict_result *vr)
{
	if (!f->tls || !rc->certs)
		return NULL;
	uint64_t at = tcpobs_has(&f->obs, OBS_SH) ? tcpobs_abs(&f->obs, f->obs.t_sh) : f->first_us;
	cert_analyze_chain(rc->certs, f->tls, at, rc->ca);
	verdict_apply_cert(vr, rc->ca);
	return rc->ca;
}

/* A SYN answered by a RST has no SYN-ACK of its own to compare the RST's TTL
 * with; the server's SYN-ACKs in other flows give its own TTL: equal, a
 * closed port; different, another box answered (the injection evidence a
 * syn_reset needs before the report may call it blocking). */
static void syn_reset_ttl(struct recorder *rc, const struct flow *f, struct verdict_result *vr)
{
	uint8_t ttl;
	if (vr->verdict != V_SYN_RESET || (vr->ev & EV_REF_TTL) || !rc->servers ||
	    !servers_ttl(rc->servers, &f->srv, &ttl))
		return;
	vr->synack_ttl = ttl;
	vr->ttl_diff = (int16_t)((int)vr->rst_ttl - (int)ttl);
	vr->ev |= EV_REF_TTL | EV_RST_INJ;
	vr->injected_reasons = vr->ttl_diff ? INJ_TTL : 0;
	vr->injected = vr->ttl_diff != 0;
}

/* What later flows of the same server need: its own TTL. */
static void remember_server(struct recorder *rc, const struct flow *f)
{
	if (rc->servers && tcpobs_has(&f->obs, OBS_SYNACK) && f->obs.ref_from_synack)
		servers_note_ttl(rc->servers, &f->srv, f->obs.srv_ref_ttl);
}

void record_local(struct recorder *rc, const struct flow *f, enum flow_end why,
		  const struct verdict_result *vr, uint64_t now_us, struct flow_record *out)
{
	memset(out, 0, offsetof(struct flow_record, vr));
	out->flow_id = f->id;
	out->first_us = f->first_us;
	out->last_us = f->last_us;
	out->cli = f->cli;
	out->srv = f->srv;
	out->cport = f->cport;
	out->sport = f->sport;
	out->proto = f->proto;
	out->client_by = f->role_src;
	out->why = why;
	memcpy(out->pkts, f->pkts, sizeof(out->pkts));
	memcpy(out->bytes, f->bytes, sizeof(out->bytes));
	out->app_proto = classify_name(rc->cls, f);
	classify_detail(rc->cls, f, out->app_detail, sizeof(out->app_detail));
	out->tls = f->tls;
	out->quic = quic_flow_info(f->quic);
	if (out->quic)
		out->app_proto = "QUIC"; /* nDPI 4.2 misses v2 and some drafts */
	out->vr = *vr;
	out->cert = refine_by_cert(rc, f, &out->vr);
	record_http_refine(rc, f, now_us, out);
	out->reachable = tcpobs_has(&f->obs, OBS_SYNACK);
}

void record_shared(struct recorder *rc, const struct flow *f, struct cert_analysis *ca,
		   uint64_t now_us, struct flow_record *out)
{
	if (ca && rc->certs && f->tls)
		cert_memory_hints(rc->certs, f->tls, ca);
	syn_reset_ttl(rc, f, &out->vr);
	remember_server(rc, f);
	residual_apply(rc->residual, rc->vcfg, f, &out->vr);
	if (rc->scanners && f->proto == 6)
		out->vr.scanner = scanners_is_scanner(rc->scanners, &f->cli, f->first_us, now_us);
	/* Networks are looked up before the client address is cut: the
	 * report keeps networks, never client addresses. */
	out->client_as = (struct asn_info){ 0, ASN_UNKNOWN_ORG };
	out->server_as = (struct asn_info){ 0, ASN_UNKNOWN_ORG };
	if (rc->asn) {
		asn_lookup(rc->asn, &f->cli, &out->client_as);
		asn_lookup(rc->asn, &f->srv, &out->server_as);
	}
	record_dns_link(rc, f, out);
	if (rc->anonymize_clients)
		anonymize_addr(&out->cli);
}

/* Printable form of a name: non-printable bytes become '?'. */
static void printable(const char *in, size_t n, char *out, size_t cap)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];
		out[j++] = (c >= 0x21 && c < 0x7f) ? (char)c : '?';
	}
	out[j] = '\0';
}

const char *record_sni(const struct flow_record *r, size_t *len)
{
	const struct tls_info *t = r->tls ? r->tls : r->quic ? &r->quic->tls : NULL;
	if (!t || !t->sni_present)
		return NULL;
	*len = t->sni_len;
	return t->sni;
}

const char *record_server_name(const struct flow_record *r, char *buf, size_t len)
{
	size_t n;
	const char *name = record_name(r, &n);
	if (name) {
		printable(name, n, buf, len);
	} else {
		char a[64];
		ts_addr_str(&r->srv, a, sizeof(a));
		snprintf(buf, len, r->srv.v4 ? "%s:%u" : "[%s]:%u", a, r->sport);
	}
	return buf;
}

/* ---- DNS transactions, and what DNS and HTTP add to TCP records ---------------- */

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
	ascii_lower_n(buf, s, n);
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
	/* the name its client resolved stands in for a name of its own only */
	const char *resolved = own ? NULL : dnsmap_name(rc->dnsmap, &f->cli, &f->srv, f->first_us);
	if (resolved) {
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

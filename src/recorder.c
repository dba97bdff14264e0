/* recorder.c - the verdict stage's last step: a finished flow becomes its
 * record.  The TCP rules have decided (verdict_decide); here the chain,
 * validated at the packet time of the ServerHello, refines that verdict,
 * the residual window marks failures that follow a block, both ends get
 * their networks, and the client address is cut last, after every lookup
 * that needs it. */
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "classify.h"
#include "quic.h"
#include "record.h"
#include "recorder.h"
#include "residual.h"
#include "scanner.h"
#include "servers.h"
#include "tls.h"

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

/* out_app.c - "dns" and "http" objects of flow events (names after
 * Suricata's EVE dns and http logs where they exist).  Reads finished
 * records only. */
#include <stdio.h>

#include "blockpage.h"
#include "dnsmap.h"
#include "dnstxn.h"
#include "http.h"
#include "out_app.h"
#include "util.h"

static void write_addr(struct json *j, const char *key, const struct ts_addr *a)
{
	char buf[64];
	json_str(j, key, ts_addr_str(a, buf, sizeof(buf)));
}

static void answers(struct json *j, const char *key, const struct dns_response *r)
{
	json_arr_open(j, key);
	if (r->cname[0])
		json_str(j, NULL, r->cname);
	for (unsigned i = 0; i < r->n_addrs; i++)
		write_addr(j, NULL, &r->addrs[i]);
	json_arr_close(j);
}

static void response(struct json *j, const struct dns_txn *t, unsigned i, bool forged)
{
	const struct dns_response *r = &t->resp[i];
	char b[16], tbuf[40];
	json_obj_open(j, NULL);
	json_str(j, "timestamp", ts_format_time(r->ts_us, tbuf, sizeof(tbuf)));
	json_double(j, "delay_ms", (double)(r->ts_us > t->query_us ? r->ts_us - t->query_us : 0) /
				   1000.0, 3);
	json_str(j, "rcode", dns_rcode_name(r->rcode, b, sizeof(b)));
	answers(j, "answers", r);
	if (r->has_ttl)
		json_uint(j, "ttl", r->min_ttl);
	else
		json_null(j, "ttl");
	json_uint(j, "ip_ttl", r->ip_ttl);
	if (r->ip_version == 4)
		json_uint(j, "ip_id", r->ip_id);
	json_bool(j, "aa", r->aa);
	if (r->tc)
		json_bool(j, "tc", true);
	json_bool(j, "forged", forged);
	json_obj_close(j);
}

static void write_dns(struct json *j, const struct dns_txn *t, const struct verdict_result *vr)
{
	char b[16];
	json_obj_open(j, "dns");
	json_uint(j, "id", t->id);
	json_strn(j, "rrname", t->qname, t->qname_len);
	json_str(j, "rrtype", dns_type_name(t->qtype, b, sizeof(b)));
	write_addr(j, "resolver", &t->srv);
	json_uint(j, "queries", t->queries);
	if (t->edns)
		json_uint(j, "edns_udp_size", t->edns_udp_size);
	if (t->n_resp) {
		json_str(j, "rcode", dns_rcode_name(t->resp[0].rcode, b, sizeof(b)));
		answers(j, "answers", &t->resp[0]);
		if (t->resp[0].has_ttl)
			json_uint(j, "ttl", t->resp[0].min_ttl);
		else
			json_null(j, "ttl");
	} else {
		json_null(j, "rcode");
		json_arr_open(j, "answers");
		json_arr_close(j);
		json_null(j, "ttl");
	}
	json_uint(j, "answers_seen", t->responses);
	json_arr_open(j, "responses");
	for (unsigned i = 0; i < t->n_resp; i++)
		response(j, t, i, (vr->dns_forged >> i) & 1);
	json_arr_close(j);
	json_obj_close(j);
}

static void write_http(struct json *j, const struct http_info *h)
{
	json_obj_open(j, "http");
	json_str(j, "hostname", h->host[0] ? h->host : NULL);
	json_str(j, "method", h->method[0] ? h->method : NULL);
	json_str(j, "url", h->target[0] ? h->target : NULL);
	json_str(j, "protocol", h->version == 10 ? "HTTP/1.0" : "HTTP/1.1");
	json_str(j, "request", http_state_name((enum http_state)h->req_state));
	if (h->status)
		json_uint(j, "status", h->status);
	else
		json_null(j, "status");
	json_str(j, "location", h->location[0] ? h->location : NULL);
	json_str(j, "server", h->server[0] ? h->server : NULL);
	if (h->content_length >= 0)
		json_int(j, "length", h->content_length);
	json_str(j, "response", h->resp_us ? http_state_name((enum http_state)h->resp_state)
					  : NULL);
	if (h->body_len)
		json_strn(j, "body_start", (const char *)h->body, h->body_len < 128 ? h->body_len : 128);
	json_obj_close(j);
}

void out_app_json(struct json *j, const struct flow_record *r)
{
	if (r->dns)
		write_dns(j, r->dns, &r->vr);
	if (r->http)
		write_http(j, r->http);
}

void out_app_evidence(struct json *j, const struct verdict_result *vr)
{
	if (vr->name_from_dns)
		json_str(j, "name_from_dns", vr->name_from_dns);
	/* only when DNS answers told something: the chains of captures
	 * without DNS keep their events as they were */
	if ((vr->verdict == V_TLS_MITM || vr->verdict == V_TLS_UNTRUSTED_CERT) && vr->dns_origin)
		json_str(j, "mitm_cause", dns_origin_name(vr->dns_origin));
	if (vr->blockpage) {
		json_obj_open(j, "blockpage");
		json_str(j, "match", blockpage_kind_name(vr->blockpage->kind));
		json_str(j, "country", vr->blockpage->country);
		json_str(j, "note", vr->blockpage->note);
		json_obj_close(j);
	}
	if (vr->ev & EV_HTTP) {
		json_double(j, "http_delay_ms", (double)vr->http_delay_us / 1000.0, 3);
		if (vr->http_ttl)
			json_uint(j, "response_ttl", vr->http_ttl);
	}
}

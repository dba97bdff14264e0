/* out_event.c - flow events as JSON lines (EVE-style names). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "certstats.h"
#include "json.h"
#include "out_app.h"
#include "out_event.h"
#include "out_cert.h"
#include "out_evidence.h"
#include "out_quic.h"
#include "preamble.h"
#include "tls.h"
#include "util.h"

#define OUT_EVENT_BUF (256u << 10)

struct out_event {
	FILE *fp;
	char *iobuf;                 /* fp's buffer (file_buffer), NULL for standard output */
	char *path;
	int is_stdout;
	unsigned long long count;
	struct json j;
	struct out_cert_memo *certs;  /* the certificates' objects already written; NULL: none kept */
};

static void out_event_close(struct out_event *o);

struct out_event *out_event_open(const char *path, char *err, size_t errlen)
{
	struct out_event *o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->path = strdup(path);
	json_init(&o->j);
	o->certs = out_cert_memo_new(); /* without it each certificate is written anew */
	if (strcmp(path, "-") == 0) {
		o->fp = stdout;
		o->is_stdout = 1;
	} else {
		o->fp = fopen(path, "w");
	}
	if (!o->fp || !o->path) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		out_event_close(o);
		return NULL;
	}
	/* A file gets a large buffer (flushed at every live stats interval and
	 * service tick); standard output keeps its own, line-friendly one. */
	if (!o->is_stdout)
		file_buffer(o->fp, &o->iobuf, OUT_EVENT_BUF);
	return o;
}

/* SIGHUP: logrotate moved the file away; go on in a new one at the same
 * path.  A failure keeps the old one and says so. */
static void out_event_reopen(void *ctx)
{
	struct out_event *o = ctx;
	if (o->is_stdout)
		return;
	o->fp = reopen_append(o->fp, o->path, &o->iobuf, OUT_EVENT_BUF, "events");
}

static void out_event_close(struct out_event *o)
{
	if (!o)
		return;
	if (o->fp && !o->is_stdout)
		fclose(o->fp);
	else if (o->fp)
		fflush(o->fp);
	free(o->iobuf);
	out_cert_memo_free(o->certs);
	json_free(&o->j);
	free(o->path);
	free(o);
}

unsigned long long out_event_count(const struct out_event *o) { return o->count; }

static void out_event_flush(void *ctx)
{
	struct out_event *o = ctx;
	if (o->fp)
		fflush(o->fp);
}

static void write_addr(struct json *j, const char *key, const struct ts_addr *a)
{
	char buf[64];
	json_str(j, key, ts_addr_str(a, buf, sizeof(buf)));
}

static void write_tls(struct json *j, const struct tls_info *t, const struct cert_analysis *ca,
		      struct out_cert_memo *certs)
{
	char vbuf[16];
	json_obj_open(j, "tls");
	if (t->sni_present)
		json_strn(j, "sni", t->sni, t->sni_len);
	if (t->sh_seen)
		json_str(j, "version", tls_version_name(t->sh_version, vbuf, sizeof(vbuf)));
	else
		json_null(j, "version");
	if (t->ch_seen) {
		json_str(j, "client_version", tls_version_name(t->ch_version, vbuf, sizeof(vbuf)));
		json_arr_open(j, "supported_versions");
		for (int i = 0; i < t->n_versions && i < TLS_MAX_VERSIONS; i++)
			json_str(j, NULL, tls_version_name(t->versions[i], vbuf, sizeof(vbuf)));
		json_arr_close(j);
		json_packed_strs(j, "alpn", t->alpn_buf, t->alpn_bytes, t->alpn_len, tls_alpn_count(t));
		json_uint(j, "cipher_suites", t->n_ciphers);
		json_str(j, "ja3", t->ja3[0] ? t->ja3 : NULL);
		json_str(j, "ja4", t->ja4[0] ? t->ja4 : NULL);
		json_bool(j, "ech", t->ech);
		json_bool(j, "esni", t->esni);
		if (t->preamble) {
			json_str(j, "preamble", preamble_name((enum preamble_kind)t->preamble));
			if (t->proxy_target)
				json_str(j, "proxy_target", t->proxy_target);
		}
		if (t->ch_sslv2)
			json_bool(j, "sslv2_client_hello", true);
		if (t->ch_ext_malformed)
			json_uint(j, "malformed_extensions", t->ch_ext_malformed);
	}
	if (t->sh_seen) {
		char cbuf[8];
		json_str(j, "cipher", ts_hex16(t->sh_cipher, cbuf));
		json_str(j, "ja3s", t->ja3s[0] ? t->ja3s : NULL);
		if (t->hello_retry)
			json_bool(j, "hello_retry", true);
	}
	json_uint(j, "certificates", t->n_certs);
	if (ca)
		out_cert_tls_members(j, ca, certs);
	for (int d = 0; d < 2; d++) {
		if (!t->alert_seen[d])
			continue;
		json_obj_open(j, d ? "server_alert" : "client_alert");
		json_uint(j, "level", t->alert_level[d]);
		json_uint(j, "description", t->alert_desc[d]);
		json_obj_close(j);
	}
	json_obj_close(j);
}

static void write_flow(struct json *j, const struct flow_record *r)
{
	char tbuf[40];
	json_obj_open(j, "flow");
	json_uint(j, "pkts_toserver", r->pkts[DIR_C2S]);
	json_uint(j, "pkts_toclient", r->pkts[DIR_S2C]);
	json_uint(j, "bytes_toserver", r->bytes[DIR_C2S]);
	json_uint(j, "bytes_toclient", r->bytes[DIR_S2C]);
	json_str(j, "start", ts_format_time(r->first_us, tbuf, sizeof(tbuf)));
	json_str(j, "end", ts_format_time(r->last_us, tbuf, sizeof(tbuf)));
	json_uint(j, "age_ms", (r->last_us - r->first_us) / 1000);
	json_str(j, "reason", flow_end_name(r->why));
	json_str(j, "client_by", r->client_by == ROLE_SYN ? "syn" :
				 r->client_by == ROLE_SYNACK ? "synack" : "port");
	if (r->clock_shift_us)
		json_double(j, "clock_shift_s", (double)r->clock_shift_us / 1e6, 6);
	json_obj_close(j);
}

void out_event_record(struct out_event *o, const struct flow_record *r)
{
	struct json *j = &o->j;
	char tbuf[40];
	json_reset(j);
	json_obj_open(j, NULL);
	json_str(j, "timestamp", ts_format_time(r->first_us, tbuf, sizeof(tbuf)));
	json_uint(j, "flow_id", r->flow_id);
	json_str(j, "event_type", "flow");
	write_addr(j, "src_ip", &r->cli);
	json_uint(j, "src_port", r->cport);
	write_addr(j, "dest_ip", &r->srv);
	json_uint(j, "dest_port", r->sport);
	json_str(j, "proto", r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : "other");
	json_str(j, "app_proto", r->app_proto);
	json_str(j, "app_proto_detail", r->app_detail);
	size_t sni_len;
	const char *sni = record_sni(r, &sni_len);
	if (sni)
		json_strn(j, "sni", sni, sni_len);
	else
		json_null(j, "sni");
	out_verdict_json(j, &r->vr);
	json_uint(j, "client_asn", r->client_as.asn);
	json_str(j, "client_as_org", r->client_as.org);
	json_uint(j, "server_asn", r->server_as.asn);
	json_str(j, "server_as_org", r->server_as.org);
	write_flow(j, r);
	if (r->tls)
		write_tls(j, r->tls, r->cert, o->certs);
	out_app_json(j, r);
	if (r->quic)
		out_quic_json(j, r);
	out_evidence_json(j, &r->vr);
	json_obj_close(j);
	out_event_line(o, j);
}

void out_event_line(struct out_event *o, const struct json *j)
{
	if (j->oom)
		return;
	fwrite(j->buf, 1, j->len, o->fp);
	fputc('\n', o->fp);
	o->count++;
}

/* ---- the sink -------------------------------------------------------------- */

static void on_flow(void *ctx, const struct flow_record *r)
{
	out_event_record(ctx, r);
}

struct consistency_ctx {
	struct out_event *o;
	uint64_t now_us;
};

static void on_finding(void *arg, const struct certstats_finding *fd)
{
	struct consistency_ctx *cc = arg;
	if (!fd->inconsistent)
		return;
	json_reset(&cc->o->j);
	out_cert_consistency_event(&cc->o->j, fd, cc->now_us);
	out_event_line(cc->o, &cc->o->j);
}

/* One tls_consistency line per (network, name) that the end of the run
 * found intercepted; their flows' own lines were written before. */
static int on_finish(void *ctx, const struct run_end *end)
{
	struct out_event *o = ctx;
	if (end->certstats) {
		struct consistency_ctx cc = { o, end->now_us };
		certstats_foreach(end->certstats, true, on_finding, &cc);
	}
	out_event_flush(o);
	return 0;
}

static void on_free(void *ctx)
{
	out_event_close(ctx);
}

static const struct sink_ops event_ops = {
	.name = "events",
	.flow = on_flow,
	.flush = out_event_flush,
	.reopen = out_event_reopen,
	.report = out_event_flush,
	.finish = on_finish,
	.free = on_free,
};

struct sink out_event_sink(struct out_event *o)
{
	return (struct sink){ &event_ops, o };
}

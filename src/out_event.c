/* out_event.c - flow events as JSON lines (EVE-style names). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asn.h"
#include "classify.h"
#include "engine.h"
#include "json.h"
#include "out_event.h"
#include "out_cert.h"
#include "out_evidence.h"
#include "tls.h"
#include "util.h"

#define OUT_EVENT_BUF (256u << 10)

struct out_event {
	FILE *fp;
	char *path;
	int is_stdout;
	unsigned long long count;
	struct json j;
};

struct out_event *out_event_open(const char *path, char *err, size_t errlen)
{
	struct out_event *o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->path = strdup(path);
	json_init(&o->j);
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
		setvbuf(o->fp, NULL, _IOFBF, OUT_EVENT_BUF);
	return o;
}

int out_event_reopen(struct out_event *o, char *err, size_t errlen)
{
	if (o->is_stdout)
		return 0;
	FILE *nf = fopen(o->path, "a");
	if (!nf) {
		snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
		return -1;
	}
	fclose(o->fp);
	o->fp = nf;
	setvbuf(o->fp, NULL, _IOFBF, OUT_EVENT_BUF);
	return 0;
}

void out_event_close(struct out_event *o)
{
	if (!o)
		return;
	if (o->fp && !o->is_stdout)
		fclose(o->fp);
	else if (o->fp)
		fflush(o->fp);
	json_free(&o->j);
	free(o->path);
	free(o);
}

unsigned long long out_event_count(const struct out_event *o) { return o->count; }

void out_event_flush(struct out_event *o)
{
	if (o && o->fp)
		fflush(o->fp);
}

static void write_addr(struct json *j, const char *key, const struct ts_addr *a)
{
	char buf[64];
	json_str(j, key, ts_addr_str(a, buf, sizeof(buf)));
}

static void write_tls(struct json *j, const struct tls_info *t, const struct cert_analysis *ca)
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
		json_arr_open(j, "alpn");
		size_t off = 0;
		for (int i = 0; i < t->n_alpn && i < TLS_MAX_ALPN; i++) {
			if (off + t->alpn_len[i] > sizeof(t->alpn_buf))
				break;
			json_strn(j, NULL, t->alpn_buf + off, t->alpn_len[i]);
			off += t->alpn_len[i];
		}
		json_arr_close(j);
		json_uint(j, "cipher_suites", t->n_ciphers);
		json_str(j, "ja3", t->ja3[0] ? t->ja3 : NULL);
		json_bool(j, "ech", t->ech);
		json_bool(j, "esni", t->esni);
		if (t->ch_sslv2)
			json_bool(j, "sslv2_client_hello", true);
		if (t->ch_ext_malformed)
			json_uint(j, "malformed_extensions", t->ch_ext_malformed);
	}
	if (t->sh_seen) {
		char cbuf[8];
		snprintf(cbuf, sizeof(cbuf), "0x%04x", t->sh_cipher);
		json_str(j, "cipher", cbuf);
		json_str(j, "ja3s", t->ja3s[0] ? t->ja3s : NULL);
		if (t->hello_retry)
			json_bool(j, "hello_retry", true);
	}
	json_uint(j, "certificates", t->n_certs);
	if (ca)
		out_cert_tls_members(j, ca);
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

void out_event_flow(struct out_event *o, const struct engine *e, const struct flow *f,
		    enum flow_end why, const struct verdict_result *vr,
		    const struct asn_info *cli_as, const struct asn_info *srv_as,
		    const struct cert_analysis *ca)
{
	struct json *j = &o->j;
	char tbuf[40], pbuf[64];
	json_reset(j);
	json_obj_open(j, NULL);
	json_str(j, "timestamp", ts_format_time(f->first_us, tbuf, sizeof(tbuf)));
	json_uint(j, "flow_id", f->id);
	json_str(j, "event_type", "flow");
	write_addr(j, "src_ip", &f->cli);
	json_uint(j, "src_port", f->cport);
	write_addr(j, "dest_ip", &f->srv);
	json_uint(j, "dest_port", f->sport);
	json_str(j, "proto", f->proto == 6 ? "TCP" : f->proto == 17 ? "UDP" : "other");
	json_str(j, "app_proto", classify_name(e->cls, f));
	json_str(j, "app_proto_detail", classify_detail(e->cls, f, pbuf, sizeof(pbuf)));
	if (f->tls && f->tls->sni_present)
		json_strn(j, "sni", f->tls->sni, f->tls->sni_len);
	else
		json_null(j, "sni");
	out_verdict_json(j, vr);
	json_uint(j, "client_asn", cli_as->asn);
	json_str(j, "client_as_org", cli_as->org);
	json_uint(j, "server_asn", srv_as->asn);
	json_str(j, "server_as_org", srv_as->org);
	json_obj_open(j, "flow");
	json_uint(j, "pkts_toserver", f->pkts[DIR_C2S]);
	json_uint(j, "pkts_toclient", f->pkts[DIR_S2C]);
	json_uint(j, "bytes_toserver", f->bytes[DIR_C2S]);
	json_uint(j, "bytes_toclient", f->bytes[DIR_S2C]);
	json_str(j, "start", ts_format_time(f->first_us, tbuf, sizeof(tbuf)));
	json_str(j, "end", ts_format_time(f->last_us, tbuf, sizeof(tbuf)));
	json_uint(j, "age_ms", (f->last_us - f->first_us) / 1000);
	json_str(j, "reason", flow_end_name(why));
	json_str(j, "client_by", f->role_src == ROLE_SYN ? "syn" :
				 f->role_src == ROLE_SYNACK ? "synack" : "port");
	json_obj_close(j);
	if (f->tls)
		write_tls(j, f->tls, ca);
	out_evidence_json(j, vr);
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

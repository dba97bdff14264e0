/* out_clickhouse.c - flow records as flat JSONEachRow rows (tamperscope.flows of sql/clickhouse.sql). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "certstats.h"
#include "dnsmap.h"
#include "json.h"
#include "out_clickhouse.h"
#include "out_report.h"
#include "report.h"
#include "testlist.h"
#include "tls.h"
#include "util.h"

/* A file's buffer: flushed at every service tick, like the events file. */
#define CH_FILE_BUF (256u << 10)

struct ch_counters {
	uint64_t rows;               /* flow rows written */
	uint64_t relabel_rows;       /* end-of-run relabel rows written */
	uint64_t rows_dropped;       /* not written: the row could not be built (memory) */
};

struct out_clickhouse {
	FILE *fp;
	char *iobuf;                 /* fp's buffer (file_buffer), NULL for standard output */
	char *path;
	bool is_stdout;
	char sensor[CH_SENSOR_MAX + 1];
	char run_id[17];             /* 64 random bits in hex: rows of different runs never collide */
	uint64_t seq;                /* rows written in this run */
	const struct testlist *testlist;
	struct json j;
	struct ch_counters c;
};

bool out_clickhouse_sensor_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > CH_SENSOR_MAX)
		return false;
	/* it names the sensor in every row and in queries: printable text only */
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static void draw_run_id(char out[17])
{
	uint64_t v;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
		/* early boot without entropy: time and pid still differ run to run */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 48);
	}
	snprintf(out, 17, "%016" PRIx64, v);
}

/* ---- columns ------------------------------------------------------------------ */

/* String columns are never null: JSONEachRow would reject the row. */
static void col_str(struct json *j, const char *key, const char *s)
{
	json_str(j, key, s ? s : "");
}

static void col_bool(struct json *j, const char *key, bool v)
{
	json_uint(j, key, v ? 1 : 0);
}

/* run_id, seq, sensor, kind, weight, start_us, end_us, timestamp: first in
 * every row, so the loader finds run_id, seq and the time without parsing
 * JSON. */
static void row_head(struct out_clickhouse *o, const char *kind, int64_t weight, uint64_t start_us,
		     uint64_t end_us)
{
	struct json *j = &o->j;
	json_reset(j);
	json_obj_open(j, NULL);
	json_str(j, "run_id", o->run_id);
	json_uint(j, "seq", ++o->seq);
	json_str(j, "sensor", o->sensor);
	json_str(j, "kind", kind);
	json_int(j, "weight", weight);
	json_uint(j, "start_us", start_us);
	json_uint(j, "end_us", end_us);
	/* seconds: a plain column (a MATERIALIZED one breaks inserts through a
	 * Distributed table on ClickHouse 18.16), the partition key's */
	json_uint(j, "timestamp", start_us / 1000000u);
}

/* domain, domain_is_address, category: the report's key of the flow. */
static void row_name(struct out_clickhouse *o, const char *key, bool named, bool is_addr)
{
	struct json *j = &o->j;
	const char *cat = NULL;
	if (named && !is_addr && o->testlist)
		cat = testlist_category(o->testlist, key);
	col_str(j, "domain", named ? key : "");
	col_bool(j, "domain_is_address", named && is_addr);
	col_str(j, "category", cat);
}

static void row_endpoints(struct json *j, const struct flow_record *r)
{
	char buf[64], ep[REPORT_KEY_MAX];
	json_uint(j, "flow_id", r->flow_id);
	col_str(j, "src_ip", ts_addr_str(&r->cli, buf, sizeof(buf)));
	json_uint(j, "src_port", r->cport);
	col_str(j, "dest_ip", ts_addr_str(&r->srv, buf, sizeof(buf)));
	json_uint(j, "dest_port", r->sport);
	if (!report_endpoint_key(&r->srv, r->sport, ep, sizeof(ep)))
		ep[0] = '\0';
	col_str(j, "server_endpoint", ep);
	col_str(j, "proto", r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : "other");
	col_str(j, "app_proto", r->app_proto);
	col_str(j, "app_proto_detail", r->app_detail);
	/* what the report counts as a QUIC flow (quic_flows): its Initials were
	 * seen, whatever nDPI called it */
	col_bool(j, "quic", r->quic != NULL);
	json_uint(j, "pkts_toserver", r->pkts[DIR_C2S]);
	json_uint(j, "pkts_toclient", r->pkts[DIR_S2C]);
	json_uint(j, "bytes_toserver", r->bytes[DIR_C2S]);
	json_uint(j, "bytes_toclient", r->bytes[DIR_S2C]);
}

static void row_verdict(struct json *j, const struct flow_record *r)
{
	const struct verdict_result *vr = &r->vr;
	col_str(j, "verdict", verdict_name(vr->verdict));
	col_str(j, "ooni_failure", verdict_ooni_failure(vr));
	col_str(j, "signature", vr->signature ? vr->signature : "none");
	col_str(j, "history", vr->history);
	col_str(j, "end_reason", vr->end ? vr->end : "closed");
	col_str(j, "reason", vr->reason);
	col_bool(j, "scanner", vr->scanner);
	col_bool(j, "injected", vr->injected);
	col_bool(j, "reachable", r->reachable);
	col_bool(j, "residual", vr->residual);
	col_bool(j, "one_direction", vr->one_direction);
	/* the report's mitm_dns_manipulation / mitm_interception: set for
	 * tls_mitm and tls_untrusted_cert flows whose address DNS explains */
	col_str(j, "mitm_cause",
		vr->dns_origin ? dns_origin_name((enum dns_origin)vr->dns_origin) : NULL);
	json_uint(j, "client_asn", r->client_as.asn);
	col_str(j, "client_as_org", r->client_as.org && r->client_as.org[0] ? r->client_as.org
									    : ASN_UNKNOWN_ORG);
	json_uint(j, "server_asn", r->server_as.asn);
	col_str(j, "server_as_org", r->server_as.org);
}

static void row_tls(struct json *j, const struct tls_info *t)
{
	char vbuf[16];
	if (t && t->sni_present)
		json_strn(j, "sni", t->sni, t->sni_len);
	else
		col_str(j, "sni", NULL);
	col_str(j, "tls_version", t && t->sh_seen ? tls_version_name(t->sh_version, vbuf, sizeof(vbuf))
						  : NULL);
	col_str(j, "tls_ja3", t ? t->ja3 : NULL);
	col_str(j, "tls_ja3s", t ? t->ja3s : NULL);
	json_packed_strs(j, "tls_alpn", t ? t->alpn_buf : NULL, t ? t->alpn_bytes : 0, t ? t->alpn_len : NULL,
			 t && t->ch_seen ? tls_alpn_count(t) : 0);
	col_bool(j, "tls_ech", t && t->ech);
}

static void row_cert(struct json *j, const struct cert_analysis *ca)
{
	col_str(j, "cert_trust", ca ? cert_trust_name((enum cert_trust)ca->trust) : NULL);
	col_str(j, "cert_match", ca ? cert_match_name((enum cert_match)ca->match) : NULL);
	col_str(j, "interception_ca", ca ? ca->interception_ca : NULL);
	bool leaf = ca && ca->n_chain > 0;
	col_str(j, "cert_leaf_subject", leaf ? ca->chain[0].subject : NULL);
	col_str(j, "cert_leaf_issuer", leaf ? ca->chain[0].issuer : NULL);
	json_arr_open(j, "cert_chain_sha256");
	for (unsigned i = 0; ca && i < ca->n_chain && i < CERT_MAX_CHAIN; i++)
		json_str(j, NULL, ca->chain[i].sha256);
	json_arr_close(j);
}

/* ---- rows ----------------------------------------------------------------------- */

static void write_row(struct out_clickhouse *o)
{
	json_obj_close(&o->j);
	if (o->j.oom) {
		o->c.rows_dropped++;
		return;
	}
	fwrite(o->j.buf, 1, o->j.len, o->fp);
	fputc('\n', o->fp);
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	struct out_clickhouse *o = ctx;
	struct report_flow rf;
	char key[REPORT_KEY_MAX];
	bool is_addr = false, cut = false;
	out_report_flow_of(r, &rf);
	bool named = report_flow_key(&rf, key, sizeof(key), &is_addr, &cut); /* cut: the report counts it */
	row_head(o, "flow", 1, r->first_us, r->last_us);
	row_endpoints(&o->j, r);
	row_tls(&o->j, r->tls);
	row_name(o, key, named, is_addr);
	row_verdict(&o->j, r);
	row_cert(&o->j, r->cert);
	col_str(&o->j, "relabel_from", NULL);
	write_row(o);
	o->c.rows++;
}

struct relabel_ctx {
	struct out_clickhouse *o;
	uint64_t now_us;
};

/* One row per (network, name) the certificate consistency concluded
 * intercepted: as report_relabel, its flows_relabel flows of the pair move
 * from tls_untrusted_cert to tls_mitm (the views cap the move at the flows
 * the pair has, as the report does). */
static void on_finding(void *arg, const struct certstats_finding *fd)
{
	struct relabel_ctx *rc = arg;
	struct out_clickhouse *o = rc->o;
	char key[REPORT_NAME_MAX + 1];
	bool cut;
	if (!fd->inconsistent || !fd->flows_relabel || !fd->sni || !fd->sni_len)
		return;
	report_norm_name(fd->sni, fd->sni_len, key, &cut);
	if (!key[0])
		return;
	row_head(o, "relabel", fd->flows_relabel, rc->now_us, rc->now_us);
	json_strn(&o->j, "sni", fd->sni, fd->sni_len);
	row_name(o, key, true, false);
	json_uint(&o->j, "client_asn", fd->asn);
	col_str(&o->j, "verdict", verdict_name(V_TLS_MITM));
	col_str(&o->j, "relabel_from", verdict_name(V_TLS_UNTRUSTED_CERT));
	write_row(o);
	o->c.relabel_rows++;
}

/* ---- the file -------------------------------------------------------------------- */

static void ch_flush(void *ctx)
{
	struct out_clickhouse *o = ctx;
	fflush(o->fp);
}

/* SIGHUP: the file was moved away (rotation, a spool directory); go on in
 * a new one at the same path.  A failure keeps the old one and says so. */
static void ch_reopen(void *ctx)
{
	struct out_clickhouse *o = ctx;
	if (o->is_stdout)
		return;
	o->fp = reopen_append(o->fp, o->path, &o->iobuf, CH_FILE_BUF, "events");
}

static int ch_finish(void *ctx, const struct run_end *end)
{
	struct out_clickhouse *o = ctx;
	if (end->certstats) {
		struct relabel_ctx rc = { o, end->now_us };
		certstats_foreach(end->certstats, true, on_finding, &rc);
	}
	if (o->c.rows_dropped)
		fprintf(stderr, "tamperscope: clickhouse rows: %" PRIu64 " not written (out of memory)\n",
			o->c.rows_dropped);
	if (fflush(o->fp) != 0 || ferror(o->fp)) {
		fprintf(stderr, "tamperscope: %s: write error: %s\n", o->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void ch_free(void *ctx)
{
	struct out_clickhouse *o = ctx;
	if (!o)
		return;
	if (o->fp && !o->is_stdout)
		fclose(o->fp);
	else if (o->fp)
		fflush(o->fp);
	free(o->iobuf);
	json_free(&o->j);
	free(o->path);
	free(o);
}

static const struct sink_ops clickhouse_ops = {
	.name = "clickhouse",
	.flow = on_flow,
	.flush = ch_flush,
	.reopen = ch_reopen,
	.report = ch_flush,
	.finish = ch_finish,
	.free = ch_free,
};

static int set_sensor(struct out_clickhouse *o, const char *name, char *err, size_t errlen)
{
	char host[CH_SENSOR_MAX + 1] = "";
	if (!name || !name[0]) {
		if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
			snprintf(host, sizeof(host), "unknown");
		name = host;
	}
	if (!out_clickhouse_sensor_ok(name)) {
		snprintf(err, errlen, "bad sensor name '%s': want 1..%d printable bytes", name,
			 CH_SENSOR_MAX);
		return -1;
	}
	snprintf(o->sensor, sizeof(o->sensor), "%s", name);
	return 0;
}

struct sink out_clickhouse_sink(const struct out_clickhouse_cfg *cfg, char *err, size_t errlen)
{
	struct out_clickhouse *o = calloc(1, sizeof(*o));
	if (!o || !(o->path = strdup(cfg->path))) {
		snprintf(err, errlen, "out of memory");
		ch_free(o);
		return (struct sink){ &clickhouse_ops, NULL };
	}
	json_init(&o->j);
	o->testlist = cfg->testlist;
	draw_run_id(o->run_id);
	if (set_sensor(o, cfg->sensor, err, errlen) < 0) {
		ch_free(o);
		return (struct sink){ &clickhouse_ops, NULL };
	}
	o->is_stdout = strcmp(cfg->path, "-") == 0;
	o->fp = o->is_stdout ? stdout : fopen(cfg->path, "a");
	if (!o->fp) {
		snprintf(err, errlen, "%s: %s", cfg->path, strerror(errno));
		ch_free(o);
		return (struct sink){ &clickhouse_ops, NULL };
	}
	if (!o->is_stdout)
		file_buffer(o->fp, &o->iobuf, CH_FILE_BUF);
	return (struct sink){ &clickhouse_ops, o };
}

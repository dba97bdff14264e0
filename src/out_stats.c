/* out_stats.c - interval statistics events and the Prometheus textfile. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "out_cert.h"
#include "out_event.h"
#include "out_quic.h"
#include "out_stats.h"
#include "tunnel.h"
#include "util.h"

struct name_count {
	char *name;
	uint64_t n;
};

struct out_stats {
	char *metrics_path;
	struct out_event *events;       /* borrowed, NULL: no stats events */
	uint64_t interval_start_us;
	uint64_t base_verdicts[V__COUNT];
	uint64_t base_tunnels[TUN__COUNT];
	uint64_t base_frames, base_bytes, base_ended;
	struct name_count names[STATS_MAX_NAMES];
	unsigned n_names;
	unsigned long long names_dropped;
	struct json j;
};

static struct out_stats *out_stats_new(const char *metrics_path)
{
	struct out_stats *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (metrics_path && !(s->metrics_path = strdup(metrics_path))) {
		free(s);
		return NULL;
	}
	json_init(&s->j);
	return s;
}

static void clear_names(struct out_stats *s)
{
	for (unsigned i = 0; i < s->n_names; i++)
		free(s->names[i].name);
	s->n_names = 0;
}

static void out_stats_free(void *ctx)
{
	struct out_stats *s = ctx;
	if (!s)
		return;
	clear_names(s);
	json_free(&s->j);
	free(s->metrics_path);
	free(s);
}

/* Linear search: the list holds one interval's blocked names, bounded by
 * STATS_MAX_NAMES, and is only touched for blocked flows. */
static void note_blocked(struct out_stats *s, const char *name)
{
	for (unsigned i = 0; i < s->n_names; i++) {
		if (strcmp(s->names[i].name, name) == 0) {
			s->names[i].n++;
			return;
		}
	}
	if (s->n_names >= STATS_MAX_NAMES) {
		s->names_dropped++;
		return;
	}
	char *copy = strdup(name);
	if (!copy) {
		s->names_dropped++;
		return;
	}
	s->names[s->n_names].name = copy;
	s->names[s->n_names].n = 1;
	s->n_names++;
}

static int by_count(const void *a, const void *b)
{
	const struct name_count *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void write_event(struct out_stats *s, const struct engine_counters *c, uint64_t now_us,
			const struct capture_kstats *ks)
{
	struct json *j = &s->j;
	char tbuf[40];
	json_reset(j);
	json_obj_open(j, NULL);
	json_str(j, "timestamp", ts_format_time(now_us, tbuf, sizeof(tbuf)));
	json_str(j, "event_type", "stats");
	json_obj_open(j, "stats");
	json_uint(j, "interval_ms", (now_us - s->interval_start_us) / 1000);
	json_uint(j, "packets", c->frames - s->base_frames);
	json_uint(j, "bytes", c->bytes - s->base_bytes);
	json_uint(j, "packets_total", c->frames);
	json_obj_open(j, "kernel");
	json_uint(j, "received", ks ? ks->received : 0);
	json_uint(j, "dropped", ks ? ks->dropped : 0);
	json_uint(j, "if_dropped", ks ? ks->if_dropped : 0);
	if (ks && ks->n_workers) { /* live worker threads: each one's socket */
		json_arr_open(j, "workers");
		for (unsigned i = 0; i < ks->n_workers; i++) {
			json_obj_open(j, NULL);
			json_uint(j, "received", ks->worker[i].received);
			json_uint(j, "dropped", ks->worker[i].dropped);
			json_obj_close(j);
		}
		json_arr_close(j);
	}
	json_obj_close(j);
	json_obj_open(j, "flows");
	json_uint(j, "active", c->flows_active);
	json_uint(j, "ended", c->flows_ended - s->base_ended);
	json_uint(j, "evicted_total", c->flows_evicted);
	json_uint(j, "created_total", c->flows_created);
	json_obj_close(j);
	json_obj_open(j, "verdicts");
	for (int v = 0; v < V__COUNT; v++) {
		uint64_t n = c->flows_by_verdict[v] - s->base_verdicts[v];
		if (n)
			json_uint(j, verdict_name((enum verdict)v), n);
	}
	json_obj_close(j);
	json_obj_open(j, "tunnels");
	for (int k = 0; k < TUN__COUNT; k++) {
		uint64_t n = c->tunnels[k] - s->base_tunnels[k];
		if (n)
			json_uint(j, tunnel_kind_name((enum tunnel_kind)k), n);
	}
	json_obj_close(j);
	qsort(s->names, s->n_names, sizeof(s->names[0]), by_count);
	json_arr_open(j, "top_blocked");
	for (unsigned i = 0; i < s->n_names && i < STATS_TOP; i++) {
		json_obj_open(j, NULL);
		json_str(j, "name", s->names[i].name);
		json_uint(j, "flows", s->names[i].n);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
	json_obj_close(j);
	out_event_line(s->events, j);
}

/* Label values: escape backslash, quote and newline (Prometheus text format). */
static void prom_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* A metric family's HELP and TYPE lines. */
static void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one sample without labels. */
static void prom_value(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	prom_family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void prom_metrics(FILE *f, const struct engine_counters *c, uint64_t now_us,
			 const struct capture_kstats *ks)
{
	prom_value(f, "tamperscope_packets_total", "counter", "Packets read.",
		   c->frames);
	prom_value(f, "tamperscope_bytes_total", "counter", "Bytes on the wire of the packets read.",
		   c->bytes);
	prom_value(f, "tamperscope_kernel_dropped_total", "counter",
		   "Packets the kernel dropped (pcap_stats).", ks ? ks->dropped + ks->if_dropped : 0);
	if (ks && ks->n_workers) {
		prom_family(f, "tamperscope_kernel_worker_dropped_total", "counter",
			    "Packets lost to one worker thread: its socket's ring was full, or frames "
			    "handed to it by another worker were refused.");
		for (unsigned i = 0; i < ks->n_workers; i++)
			fprintf(f, "tamperscope_kernel_worker_dropped_total{worker=\"%u\"} %llu\n", i,
				ks->worker[i].dropped);
	}
	prom_value(f, "tamperscope_flows_active", "gauge", "Flows held now.",
		   c->flows_active);
	prom_value(f, "tamperscope_flows_evicted_total", "counter", "Flows ended early by the flow cap.",
		   c->flows_evicted);
	prom_family(f, "tamperscope_flows_total", "counter", "Flows with a verdict, by verdict.");
	for (int v = 0; v < V__COUNT; v++) {
		fputs("tamperscope_flows_total{verdict=\"", f);
		prom_label(f, verdict_name((enum verdict)v));
		fprintf(f, "\"} %llu\n", (unsigned long long)c->flows_by_verdict[v]);
	}
	prom_family(f, "tamperscope_decode_errors_total", "counter", "Frames not decoded, by reason.");
	for (int r = 0; r < DEC__COUNT; r++) {
		if (r == DEC_OK || r == DEC_FRAG_HELD)
			continue;
		fprintf(f, "tamperscope_decode_errors_total{reason=\"%s\"} %llu\n",
			decode_result_name((enum decode_result)r),
			(unsigned long long)c->decode[r]);
	}
	prom_family(f, "tamperscope_tunnel_frames_total", "counter",
		    "Frames taken out of a tunnel, by tunnel (once per layer).");
	for (int k = 0; k < TUN__COUNT; k++)
		fprintf(f, "tamperscope_tunnel_frames_total{tunnel=\"%s\"} %llu\n",
			tunnel_kind_name((enum tunnel_kind)k),
			(unsigned long long)c->tunnels[k]);
	prom_family(f, "tamperscope_last_update_seconds", "gauge", "Packet clock at this update.");
	fprintf(f, "tamperscope_last_update_seconds %llu.%06llu\n",
		(unsigned long long)(now_us / 1000000), (unsigned long long)(now_us % 1000000));
}

/* The Prometheus textfile (text format 0.0.4). */
static int write_metrics(const struct out_stats *s, const struct engine_counters *c,
			 uint64_t now_us, const struct capture_kstats *ks)
{
	size_t len = strlen(s->metrics_path) + 16;
	char *tmp = malloc(len);
	if (!tmp)
		return -1;
	/* Write beside the target and rename: readers never see half a file. */
	snprintf(tmp, len, "%s.tmp.%ld", s->metrics_path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		free(tmp);
		return -1;
	}
	prom_metrics(f, c, now_us, ks);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, s->metrics_path) != 0) {
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* The interval's event and textfile, then a new interval. */
static void on_interval(void *ctx, const struct run_tick *t)
{
	struct out_stats *s = ctx;
	const struct engine_counters *c = t->c;
	if (!s->interval_start_us)
		s->interval_start_us = c->first_us;
	if (s->events)
		write_event(s, c, t->now_us, t->ks);
	if (s->metrics_path && write_metrics(s, c, t->now_us, t->ks) < 0)
		fprintf(stderr, "tamperscope: cannot write the metrics file: %s\n", strerror(errno));
	memcpy(s->base_verdicts, c->flows_by_verdict, sizeof(s->base_verdicts));
	memcpy(s->base_tunnels, c->tunnels, sizeof(s->base_tunnels));
	s->base_frames = c->frames;
	s->base_bytes = c->bytes;
	s->base_ended = c->flows_ended;
	s->interval_start_us = t->now_us;
	clear_names(s);
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	char name[300];
	if (verdict_is_interference(r->vr.verdict))
		note_blocked(ctx, record_server_name(r, name, sizeof(name)));
}

static const struct sink_ops stats_ops = {
	.name = "stats",
	.flow = on_flow,
	.interval = on_interval,
	.free = out_stats_free,
};

struct sink out_stats_sink(const char *metrics_path, struct out_event *events)
{
	struct out_stats *s = out_stats_new(metrics_path);
	if (s)
		s->events = events;
	return (struct sink){ &stats_ops, s };
}

/* DNS and HTTP: only when there was any, so TLS-only runs print as before. */
static void out_stats_app(FILE *out, const struct engine_counters *c)
{
	if (c->dns_messages || c->dns_truncated || c->dns_malformed)
		fprintf(out, "tamperscope:   DNS: %llu messages (%llu truncated, %llu malformed), %llu transactions "
			"(%llu finished early at the cap, %llu refused), %llu unmatched responses, %llu responses "
			"over the per-transaction cap, %llu TCP streams not framed, %llu resolvers and %llu "
			"name-map entries over their caps\n",
			(unsigned long long)c->dns_messages, (unsigned long long)c->dns_truncated,
			(unsigned long long)c->dns_malformed, (unsigned long long)c->dns_txns,
			(unsigned long long)c->dns_txns_evicted, (unsigned long long)c->dns_txns_refused,
			(unsigned long long)c->dns_unmatched, (unsigned long long)c->dns_resp_dropped,
			(unsigned long long)c->dns_tcp_lost, (unsigned long long)c->dns_resolvers_full,
			(unsigned long long)c->dnsmap_evicted);
	if (c->http_flows)
		fprintf(out, "tamperscope:   HTTP: %llu flows, heads %llu truncated, %llu malformed, %llu too long\n",
			(unsigned long long)c->http_flows, (unsigned long long)c->http_truncated,
			(unsigned long long)c->http_malformed, (unsigned long long)c->http_too_long);
}

void out_stats_print_end(FILE *out, const struct engine_counters *c,
			 const struct cert_stats *cs, const struct certstats_stats *cst)
{
	uint64_t trunc = 0, bad = 0;
	for (int r = 0; r < DEC__COUNT; r++) {
		if (r == DEC_OK || r == DEC_FRAG_HELD || r == DEC_SKIP_NOT_IP ||
		    r == DEC_SKIP_PROTO || r == DEC_SKIP_TUNNEL ||
		    r == DEC_SKIP_TUNNEL_DEPTH)
			continue;
		if (decode_result_is_truncation((enum decode_result)r))
			trunc += c->decode[r];
		else
			bad += c->decode[r];
	}
	fprintf(out, "tamperscope: %llu packets (%llu TCP/UDP decoded), %llu flows, "
		"%llu evicted, %llu decode errors (%llu truncated, %llu malformed)\n",
		(unsigned long long)c->frames, (unsigned long long)c->decoded,
		(unsigned long long)c->flows_created, (unsigned long long)c->flows_evicted,
		(unsigned long long)(trunc + bad), (unsigned long long)trunc,
		(unsigned long long)bad);
	for (int r = 0; r < DEC__COUNT; r++) {
		if (r == DEC_OK || !c->decode[r])
			continue;
		fprintf(out, "tamperscope:   %-20s %llu\n", decode_result_name((enum decode_result)r),
			(unsigned long long)c->decode[r]);
	}
	for (int k = 0; k < TUN__COUNT; k++) {
		if (c->tunnels[k])
			fprintf(out, "tamperscope:   tunnel %-13s %llu\n",
				tunnel_kind_name((enum tunnel_kind)k),
				(unsigned long long)c->tunnels[k]);
	}
	if (cs)
		out_cert_print_stats(out, cs, cst);
	if (c->reasm_overlap_diffs)
		fprintf(out, "tamperscope:   overlapping segments with different bytes: %llu\n",
			(unsigned long long)c->reasm_overlap_diffs);
	if (c->preambles)
		fprintf(out, "tamperscope:   TLS after a plaintext preamble (STARTTLS, CONNECT, SOCKS, PROXY): %llu\n",
			(unsigned long long)c->preambles);
	out_stats_app(out, c);
	if (c->quic.flows)
		out_quic_print_stats(out, &c->quic);
	if (c->clock_jumps)
		fprintf(out, "tamperscope:   capture clock discontinuities: %llu (later timestamps shifted "
			"to continue the clock; flows kept)\n", (unsigned long long)c->clock_jumps);
}

void out_stats_print_threads(FILE *out, const struct thread_time *tt, unsigned n)
{
	static const char *const waits[][2] = {
		[THREAD_READER] = { "for room at a worker", "for room at the finishing thread" },
		[THREAD_WORKER] = { "for packets", "for room for its finished flows" },
		[THREAD_FINISHER] = { "for flows to finish", "for a worker's finished flow" },
	};
	unsigned worker = 0;
	bool finisher = false; /* else the reader finishes the flows itself */
	for (unsigned i = 0; i < n; i++)
		finisher |= tt[i].role == THREAD_FINISHER;
	for (unsigned i = 0; i < n; i++) {
		char who[24];
		if (tt[i].role == THREAD_WORKER)
			snprintf(who, sizeof(who), "worker %u", ++worker);
		else
			snprintf(who, sizeof(who), "%s", tt[i].role == THREAD_READER ? "reader" : "finishing");
		char fin[48] = "";
		if (tt[i].role == THREAD_READER && !finisher)
			snprintf(fin, sizeof(fin), " (finishing flows %.3f s)", (double)tt[i].finish_us / 1e6);
		fprintf(out, "tamperscope:   thread %-9s %.3f s CPU%s; waited %.3f s %s, %.3f s %s\n", who,
			(double)tt[i].cpu_us / 1e6, fin, (double)tt[i].wait_us[0] / 1e6, waits[tt[i].role][0],
			(double)tt[i].wait_us[1] / 1e6, waits[tt[i].role][1]);
	}
}

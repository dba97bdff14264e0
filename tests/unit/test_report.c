/* test_report.c - statistics and conclusions: thresholds, confidence rising
 * with flow count, the cross-network factor, timeline and buckets, the
 * memory cap, the outputs, and merge == one run over the joined input;
 * plus the strict JSON reader merge relies on (hostile and truncated text). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htab.h"
#include "jsonread.h"
#include "out_report.h"
#include "report.h"
#include "report_merge.h"
#include "testlist.h"

#define HOUR 3600000000ull
#define T0 (1715729838ull * 1000000ull) /* 2024-05-14T23:37:18Z */

static char *json_text(const struct report *r);

static struct report *new_report(uint32_t min_flows, const struct testlist *tl)
{
	struct report_cfg cfg;
	report_cfg_default(&cfg);
	if (min_flows)
		cfg.min_flows = min_flows;
	cfg.testlist = tl;
	struct report *r = report_new(&cfg);
	assert_non_null(r);
	return r;
}

static void add(struct report *r, uint32_t asn, const char *sni, enum verdict v, uint64_t ts)
{
	struct report_flow rf = {
		.ts_us = ts,
		.verdict = v,
		.client_asn = asn,
		.client_org = asn == 9198 ? "JSC Kazakhtelecom" : asn == 21299 ? "Kar-Tel LLC" :
										  "Control Net",
		.sni = sni,
		.sni_len = sni ? strlen(sni) : 0,
	};
	report_add(r, &rf);
}

static void add_n(struct report *r, uint32_t asn, const char *sni, enum verdict v, int n,
		  uint64_t ts)
{
	for (int i = 0; i < n; i++)
		add(r, asn, sni, v, ts + (uint64_t)i * 1000000u);
}

static const struct report_pair *find_pair(struct report *r, uint32_t asn, const char *name)
{
	size_t n;
	struct report_pair *const *p = report_pairs(r, &n);
	for (size_t i = 0; i < n; i++)
		if (p[i]->net->asn == asn && strcmp(p[i]->name->name, name) == 0)
			return p[i];
	return NULL;
}

static const struct report_pair *conclude_one(struct report *r, uint32_t asn, const char *name)
{
	assert_int_equal(report_finalize(r), 0);
	const struct report_pair *p = find_pair(r, asn, name);
	assert_non_null(p);
	return p;
}

/* ---- counting ---------------------------------------------------------- */

static void test_counts_per_level(void **state)
{
	struct report *r = new_report(0, NULL);
	add_n(r, 9198, "kloop.kg", V_TLS_STALL, 4, T0);
	add_n(r, 9198, "kloop.kg", V_OK, 1, T0);
	add_n(r, 21299, "KLOOP.KG.", V_OK, 2, T0);      /* same name after normalising */
	add_n(r, 9198, "example.org", V_INCOMPLETE, 3, T0);
	add_n(r, 9198, NULL, V_NOT_TLS, 2, T0);          /* no SNI, not measured */
	assert_int_equal(report_finalize(r), 0);

	size_t n;
	struct report_net *const *nets = report_nets(r, &n);
	assert_int_equal(n, 2);
	assert_int_equal(nets[0]->asn, 9198);          /* sorted by ASN */
	assert_int_equal(nets[0]->c.flows, 10);
	assert_int_equal(nets[0]->c.n[V_NOT_TLS], 2);
	assert_int_equal(nets[0]->names, 2);
	assert_int_equal(nets[0]->blocked_names, 1);
	assert_string_equal(nets[0]->org, "JSC Kazakhtelecom");
	assert_int_equal(nets[1]->c.flows, 2);

	struct report_name *const *names = report_names(r, &n);
	assert_int_equal(n, 2);
	assert_string_equal(names[0]->name, "example.org");
	assert_string_equal(names[1]->name, "kloop.kg");
	assert_int_equal(names[1]->c.flows, 7);
	assert_int_equal(names[1]->networks, 2);
	assert_int_equal(names[1]->blocked_networks, 1);

	struct report_share s;
	report_counts_share(&names[1]->c, &s);
	assert_int_equal(s.measured, 7);
	assert_int_equal(s.anomalies, 4);
	assert_int_equal(s.dominant, V_TLS_STALL);
	assert_true(fabs(s.dominant_share - 1.0) < 1e-12);
	assert_true(fabs(s.anomaly_share - 4.0 / 7.0) < 1e-12);
	assert_int_equal(report_stats(r)->flows, 12);
	report_free(r);
}

static void test_no_sni_uses_server_address(void **state)
{
	struct report *r = new_report(0, NULL);
	struct ts_addr a4, a6;
	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	a4.v4 = 1;
	a4.a[10] = a4.a[11] = 0xff;
	inet_pton(AF_INET, "198.51.100.7", a4.a + 12);
	inet_pton(AF_INET6, "2001:db8::1", a6.a);
	struct report_flow rf = { .ts_us = T0, .verdict = V_SYN_TIMEOUT, .client_asn = 9198,
				  .server = &a4, .server_port = 443 };
	report_add(r, &rf);
	rf.server = &a6;
	report_add(r, &rf);
	rf.verdict = V_INCOMPLETE; /* not measured: counted for the network only */
	report_add(r, &rf);
	rf.verdict = V_OK;
	rf.sni = "";               /* an empty SNI is no SNI */
	rf.sni_len = 0;
	report_add(r, &rf);
	assert_int_equal(report_finalize(r), 0);
	size_t n;
	struct report_name *const *names = report_names(r, &n);
	assert_int_equal(n, 2);
	assert_string_equal(names[0]->name, "198.51.100.7:443");
	assert_true(names[0]->is_addr);
	assert_string_equal(names[1]->name, "[2001:db8::1]:443");
	assert_int_equal(names[1]->c.flows, 2);
	struct report_net *const *nets = report_nets(r, &n);
	assert_int_equal(nets[0]->c.flows, 4);
	report_free(r);
}

/* The endpoint key is written by hand: it must read as inet_ntop and
 * snprintf("%s:%u") would have written it, cut the same way. */
static void test_endpoint_key_format(void **state)
{
	(void)state;
	struct ts_addr a;
	char k[64];
	memset(&a, 0, sizeof(a));
	a.a[10] = a.a[11] = 0xff; /* mapped, v4 flag unset: still a dotted quad */
	inet_pton(AF_INET, "10.0.200.9", a.a + 12);
	assert_true(report_endpoint_key(&a, 0, k, sizeof(k)));
	assert_string_equal(k, "10.0.200.9:0");
	assert_true(report_endpoint_key(&a, 65535, k, sizeof(k)));
	assert_string_equal(k, "10.0.200.9:65535");
	char small[8];
	assert_true(report_endpoint_key(&a, 443, small, sizeof(small)));
	assert_string_equal(small, "10.0.20"); /* snprintf's cut */
	memset(&a, 0, sizeof(a));
	inet_pton(AF_INET6, "2001:db8::ff00:42:8329", a.a);
	assert_true(report_endpoint_key(&a, 8443, k, sizeof(k)));
	assert_string_equal(k, "[2001:db8::ff00:42:8329]:8443");
	memset(&a, 0, sizeof(a)); /* :: */
	assert_true(report_endpoint_key(&a, 53, k, sizeof(k)));
	assert_string_equal(k, "[::]:53");
}

static void test_hostile_names_normalised(void **state)
{
	char out[REPORT_NAME_MAX + 1];
	bool cut;
	assert_int_equal(report_norm_name("Ab\x1b[2J\xff.Com..", 13, out, &cut), 11);
	assert_string_equal(out, "ab?[2j?.com");
	assert_false(cut);
	char longname[400];
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(report_norm_name(longname, sizeof(longname), out, &cut), REPORT_NAME_MAX);
	assert_true(cut);
	/* a name with a NUL, quotes and commas reaches the table as printable */
	struct report *r = new_report(0, NULL);
	struct report_flow rf = { .ts_us = T0, .verdict = V_TLS_RESET, .client_asn = 1,
				  .sni = "a\0\"b,c", .sni_len = 6 };
	report_add(r, &rf);
	assert_int_equal(report_finalize(r), 0);
	size_t n;
	struct report_name *const *names = report_names(r, &n);
	assert_int_equal(n, 1);
	assert_string_equal(names[0]->name, "a?\"b,c");
	report_free(r);
}

/* ---- conclusion rules at their thresholds ------------------------------ */

static enum report_status status_of(uint32_t min_flows, int ok, int stall, int reset,
				    int syn, int incomplete)
{
	struct report *r = new_report(min_flows, NULL);
	add_n(r, 9198, "x.kz", V_OK, ok, T0);
	add_n(r, 9198, "x.kz", V_TLS_STALL, stall, T0);
	add_n(r, 9198, "x.kz", V_TLS_RESET, reset, T0);
	add_n(r, 9198, "x.kz", V_SYN_TIMEOUT, syn, T0);
	add_n(r, 9198, "x.kz", V_INCOMPLETE, incomplete, T0);
	enum report_status s = conclude_one(r, 9198, "x.kz")->concl.status;
	report_free(r);
	return s;
}

static void test_threshold_min_flows(void **state)
{
	assert_int_equal(status_of(0, 0, 3, 0, 0, 0), RS_BLOCKED);       /* m = 3 */
	assert_int_equal(status_of(0, 0, 2, 0, 0, 0), RS_INCONCLUSIVE);  /* m = 2 */
	assert_int_equal(status_of(0, 0, 2, 0, 0, 5), RS_INCONCLUSIVE);  /* incomplete not measured */
	assert_int_equal(status_of(5, 0, 4, 0, 0, 0), RS_INCONCLUSIVE);  /* --min-flows 5 */
	assert_int_equal(status_of(5, 0, 5, 0, 0, 0), RS_BLOCKED);
	assert_int_equal(status_of(1, 0, 1, 0, 0, 0), RS_BLOCKED);
}

static void test_threshold_anomaly_share(void **state)
{
	assert_int_equal(status_of(0, 2, 3, 0, 0, 0), RS_BLOCKED);       /* a = 3/5 exactly */
	assert_int_equal(status_of(0, 3, 2, 0, 0, 0), RS_INCONCLUSIVE);  /* a = 2/5 */
	assert_int_equal(status_of(0, 7, 10, 0, 0, 0), RS_INCONCLUSIVE); /* a = 10/17 < 3/5 */
	assert_int_equal(status_of(0, 9, 1, 0, 0, 0), RS_OK);            /* a = 1/10 exactly */
	assert_int_equal(status_of(0, 8, 1, 0, 0, 0), RS_INCONCLUSIVE);  /* a = 1/9 */
	assert_int_equal(status_of(0, 4, 0, 0, 0, 0), RS_OK);
	assert_int_equal(status_of(0, 0, 0, 0, 0, 4), RS_NO_DATA);       /* only incomplete */
}

static void test_threshold_consistency(void **state)
{
	/* c = 3/5 exactly: blocked, method the dominant one */
	struct report *r = new_report(0, NULL);
	add_n(r, 9198, "x.kz", V_TLS_RESET, 3, T0);
	add_n(r, 9198, "x.kz", V_TLS_STALL, 2, T0);
	const struct report_pair *p = conclude_one(r, 9198, "x.kz");
	assert_int_equal(p->concl.status, RS_BLOCKED);
	assert_int_equal(p->concl.method, V_TLS_RESET);
	assert_true(fabs(p->concl.consistency - 0.6) < 1e-12);
	report_free(r);
	/* c = 2/5: mixed failures, inconclusive */
	assert_int_equal(status_of(0, 0, 2, 2, 1, 0), RS_INCONCLUSIVE);
	/* a tie picks the first in verdict order (tls_stall before tls_reset) */
	r = new_report(0, NULL);
	add_n(r, 9198, "x.kz", V_TLS_RESET, 3, T0);
	add_n(r, 9198, "x.kz", V_TLS_STALL, 3, T0);
	p = conclude_one(r, 9198, "x.kz");
	assert_int_equal(p->concl.method, V_TLS_STALL);
	assert_int_equal(p->concl.status, RS_INCONCLUSIVE); /* c = 1/2 */
	report_free(r);
}

static void add_quic_n(struct report *r, uint32_t asn, const char *sni, enum verdict v, int n)
{
	for (int i = 0; i < n; i++) {
		struct report_flow rf = { .ts_us = T0 + (uint64_t)i, .verdict = v, .client_asn = asn,
					  .sni = sni, .sni_len = strlen(sni), .quic = true };
		report_add(r, &rf);
	}
}

/* QUIC next to TLS over TCP (report.h): QUIC blocked while TCP works is
 * blocked by quic_stall with the TCP successes as evidence; both blocked
 * gives both methods; too few QUIC flows, or TCP itself failing without a
 * conclusion, leave the mixed rule. */
static void test_quic_next_to_tcp(void **state)
{
	(void)state;
	struct report *r = new_report(0, NULL);
	add_quic_n(r, 9198, "q.kz", V_QUIC_STALL, 3);
	add_n(r, 9198, "q.kz", V_OK, 4, T0);
	add_quic_n(r, 9198, "both.kz", V_QUIC_STALL, 3);
	add_n(r, 9198, "both.kz", V_TLS_STALL, 3, T0);
	add_quic_n(r, 9198, "few.kz", V_QUIC_STALL, 2);
	add_n(r, 9198, "few.kz", V_OK, 4, T0);
	add_quic_n(r, 9198, "ok.kz", V_OK, 3);
	add_quic_n(r, 9198, "ok.kz", V_QUIC_STALL, 3);
	add_n(r, 9198, "ok.kz", V_OK, 3, T0);
	const struct report_pair *p = conclude_one(r, 9198, "q.kz");
	assert_int_equal(p->concl.status, RS_BLOCKED);
	assert_int_equal(p->concl.method, V_QUIC_STALL);
	assert_true(p->concl.quic_only);
	assert_int_equal(p->concl.tcp_ok, 4);
	assert_int_equal(p->c.quic_flows, 3);
	p = find_pair(r, 9198, "both.kz");
	assert_int_equal(p->concl.status, RS_BLOCKED);
	assert_int_equal(p->concl.method, V_TLS_STALL);
	assert_int_equal(p->concl.method2, V_QUIC_STALL);
	p = find_pair(r, 9198, "few.kz"); /* 2 QUIC flows < --min-flows */
	assert_int_not_equal(p->concl.status, RS_BLOCKED);
	assert_false(p->concl.quic_only);
	p = find_pair(r, 9198, "ok.kz"); /* QUIC stalls half the time: not blocked */
	assert_int_not_equal(p->concl.status, RS_BLOCKED);
	assert_int_equal(p->c.quic_ok, 3);
	report_free(r);
}

/* dns_error is interference only across networks: blocked where the name
 * resolves elsewhere, a failure where it fails everywhere or is mixed. */
static void test_dns_error_cross_network(void **state)
{
	(void)state;
	struct report *r = new_report(0, NULL);
	add_n(r, 9198, "news.kz", V_DNS_ERROR, 4, T0);
	add_n(r, 64500, "news.kz", V_OK, 2, T0);           /* resolves on the control network */
	add_n(r, 9198, "typo.kz", V_DNS_ERROR, 4, T0);
	add_n(r, 64500, "typo.kz", V_DNS_ERROR, 3, T0);    /* NXDOMAIN everywhere */
	add_n(r, 21299, "news.kz", V_DNS_ERROR, 1, T0);
	add_n(r, 21299, "news.kz", V_OK, 3, T0);           /* mostly fine here */
	add_n(r, 21299, "mixed.kz", V_DNS_ERROR, 2, T0);
	add_n(r, 21299, "mixed.kz", V_TLS_STALL, 2, T0);   /* k' = 4, c' = 1/2: inconclusive */
	add_n(r, 64500, "mixed.kz", V_OK, 1, T0);
	const struct report_pair *p = conclude_one(r, 9198, "news.kz");
	assert_int_equal(p->concl.status, RS_BLOCKED);
	assert_int_equal(p->concl.method, V_DNS_ERROR);
	assert_true(p->concl.dns_cross_network);
	assert_int_equal(p->concl.cross_kind, RX_WORKS_ELSEWHERE);
	assert_true(p->concl.confidence > 0.66 && p->concl.confidence < 0.67); /* 1 * 1 * 4/6 * 1 */
	p = find_pair(r, 9198, "typo.kz");
	assert_int_not_equal(p->concl.status, RS_BLOCKED);
	assert_false(p->concl.dns_cross_network);
	p = find_pair(r, 21299, "news.kz");
	assert_int_not_equal(p->concl.status, RS_BLOCKED);
	p = find_pair(r, 21299, "mixed.kz");
	assert_int_not_equal(p->concl.status, RS_BLOCKED);
	assert_int_equal(p->concl.method, V_TLS_STALL);
	report_free(r);
}

/* Failures that are not interference (tls_alert) count as measured but not
 * as anomalies, and never become the method. */
static void test_alert_is_failure_not_anomaly(void **state)
{
	struct report *r = new_report(0, NULL);
	add_n(r, 9198, "x.kz", V_TLS_ALERT, 5, T0);
	add_n(r, 9198, "x.kz", V_TLS_STALL, 1, T0);
	const struct report_pair *p = conclude_one(r, 9198, "x.kz");
	assert_int_equal(p->concl.status, RS_INCONCLUSIVE);
	assert_int_equal(p->concl.method, V_TLS_STALL);
	struct report_share s;
	report_counts_share(&p->c, &s);
	assert_int_equal(s.measured, 6);
	assert_int_equal(s.anomalies, 1);
	assert_int_equal(s.dominant, V_TLS_ALERT);
	report_free(r);
}

/* ---- confidence --------------------------------------------------------- */

static double confidence_with(int flows, bool control_ok)
{
	struct report *r = new_report(0, NULL);
	add_n(r, 9198, "kloop.kg", V_TLS_STALL, flows, T0);
	if (control_ok)
		add_n(r, 64500, "kloop.kg", V_OK, 2, T0);
	double c = conclude_one(r, 9198, "kloop.kg")->concl.confidence;
	report_free(r);
	return c;
}

static void test_confidence_rises_with_flow_count(void **state)
{
	double prev = 0;
	int counts[] = { 3, 4, 5, 10, 30, 100 };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		double c = confidence_with(counts[i], true);
		assert_true(c > prev);
		assert_true(c >= 0.0 && c <= 1.0);
		prev = c;
	}
	/* the documented values: a * c * m/(m+2) * X */
	assert_true(fabs(confidence_with(3, true) - 0.6) < 1e-12);
	assert_true(fabs(confidence_with(10, true) - 10.0 / 12.0) < 1e-12);
	assert_true(fabs(confidence_with(3, false) - 0.6 * 0.75) < 1e-12);
}

static void test_cross_network_factor(void **state)
{
	struct report *r = new_report(0, NULL);
	add_n(r, 9198, "a.kz", V_TLS_STALL, 3, T0);
	add_n(r, 64500, "a.kz", V_OK, 1, T0);             /* works elsewhere */
	add_n(r, 9198, "b.kz", V_TLS_STALL, 3, T0);
	add_n(r, 21299, "b.kz", V_SYN_TIMEOUT, 2, T0);    /* fails elsewhere too */
	add_n(r, 9198, "c.kz", V_TLS_STALL, 3, T0);       /* only here */
	add_n(r, 9198, "d.kz", V_TLS_STALL, 3, T0);
	add_n(r, 9198, "d.kz", V_OK, 0, T0);
	add_n(r, 21299, "d.kz", V_INCOMPLETE, 5, T0);     /* not measured: only here */
	assert_int_equal(report_finalize(r), 0);
	const struct report_pair *a = find_pair(r, 9198, "a.kz"), *b = find_pair(r, 9198, "b.kz");
	const struct report_pair *c = find_pair(r, 9198, "c.kz"), *d = find_pair(r, 9198, "d.kz");
	assert_int_equal(a->concl.cross_kind, RX_WORKS_ELSEWHERE);
	assert_int_equal(b->concl.cross_kind, RX_FAILS_ELSEWHERE);
	assert_int_equal(c->concl.cross_kind, RX_ONLY_HERE);
	assert_int_equal(d->concl.cross_kind, RX_ONLY_HERE);
	assert_true(a->concl.confidence > c->concl.confidence);
	assert_true(c->concl.confidence > b->concl.confidence);
	assert_true(fabs(b->concl.confidence - 0.6 * 0.5) < 1e-12);
	/* the control network shows no blocked name */
	const struct report_pair *ctl = find_pair(r, 64500, "a.kz");
	assert_int_equal(ctl->concl.status, RS_OK);
	report_free(r);
}

/* ---- timeline ------------------------------------------------------------ */

static void test_timeline_onset_and_buckets(void **state)
{
	struct report *r = new_report(0, NULL);
	/* ok for two hours, blocked in the third and fourth, ok again in the
	 * sixth; flows end out of order */
	add(r, 9198, "kloop.kg", V_TLS_STALL, T0 + 3 * HOUR + 5);
	add(r, 9198, "kloop.kg", V_OK, T0 + 10);
	add(r, 9198, "kloop.kg", V_OK, T0 + HOUR + 10);
	add(r, 9198, "kloop.kg", V_TLS_STALL, T0 + 2 * HOUR + 7);
	add(r, 9198, "kloop.kg", V_TLS_STALL, T0 + 2 * HOUR + 3);
	add(r, 9198, "kloop.kg", V_OK, T0 + 5 * HOUR);
	add(r, 9198, "kloop.kg", V_INCOMPLETE, T0 + 5 * HOUR + 1);
	const struct report_pair *p = conclude_one(r, 9198, "kloop.kg");
	assert_int_equal(p->first_ok_us, T0 + 10);
	assert_int_equal(p->last_ok_us, T0 + 5 * HOUR);
	assert_int_equal(p->first_blocked_us, T0 + 2 * HOUR + 3);
	assert_int_equal(p->last_blocked_us, T0 + 3 * HOUR + 5);
	uint64_t onset;
	assert_true(report_pair_onset(p, &onset));
	assert_int_equal(onset, T0 + 2 * HOUR + 3);
	/* buckets: epoch-aligned hours, sorted although added out of order */
	uint64_t b0 = T0 - T0 % HOUR;
	assert_int_equal(p->nb, 5);
	uint64_t want_start[] = { b0, b0 + HOUR, b0 + 2 * HOUR, b0 + 3 * HOUR, b0 + 5 * HOUR };
	uint64_t want_flows[] = { 1, 1, 2, 1, 2 }, want_ok[] = { 1, 1, 0, 0, 1 };
	uint64_t want_blk[] = { 0, 0, 2, 1, 0 };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(p->b[i].start_us, want_start[i]);
		assert_int_equal(p->b[i].flows, want_flows[i]);
		assert_int_equal(p->b[i].ok, want_ok[i]);
		assert_int_equal(p->b[i].blocked, want_blk[i]);
	}
	report_free(r);

	/* blocked from the start of observation: no onset */
	r = new_report(0, NULL);
	add(r, 9198, "vlast.kz", V_TLS_RESET, T0);
	add(r, 9198, "vlast.kz", V_OK, T0 + 100);
	add(r, 9198, "vlast.kz", V_TLS_RESET, T0 + 200);
	p = conclude_one(r, 9198, "vlast.kz");
	assert_false(report_pair_onset(p, &onset));
	report_free(r);
}

static void test_custom_bucket(void **state)
{
	struct report_cfg cfg;
	report_cfg_default(&cfg);
	cfg.bucket_us = 60000000; /* 1 min */
	struct report *r = report_new(&cfg);
	for (int i = 0; i < 10; i++)
		add(r, 9198, "x.kz", V_TLS_STALL, T0 - T0 % 60000000 + (uint64_t)i * 30000000);
	const struct report_pair *p = conclude_one(r, 9198, "x.kz");
	assert_int_equal(p->nb, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(p->b[i].flows, 2);
	report_free(r);
}

/* ---- memory cap ---------------------------------------------------------- */

static void test_memory_cap_counts_refusals(void **state)
{
	struct report_cfg cfg;
	report_cfg_default(&cfg);
	cfg.max_bytes = 64 * 1024; /* the three empty tables use 12 KiB */
	struct report *r = report_new(&cfg);
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		add(r, 9198, name, V_TLS_STALL, T0 + (uint64_t)i * HOUR);
	}
	const struct report_stats *st = report_stats(r);
	assert_int_equal(st->flows, 5000);
	assert_true(st->refused_name + st->refused_pair > 0);
	assert_true(st->bytes <= cfg.max_bytes);
	assert_int_equal(report_finalize(r), 0);
	size_t n;
	struct report_net *const *nets = report_nets(r, &n);
	assert_int_equal(n, 1);
	assert_int_equal(nets[0]->c.flows, 5000); /* the network still counts every flow */
	report_free(r);
}

static void add_names(struct report *r, int n)
{
	char name[32];
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		add(r, 9198, name, V_TLS_STALL, T0);
	}
}

/* The tables' growth counts against the cap like their entries: 128 names
 * fill the first 256 slots to half, the 129th doubles the name table.
 * With room for three more names' entries but not for the doubled slots,
 * the 129th name is refused and counted. */
static void test_memory_cap_counts_table_growth(void **state)
{
	struct report_cfg cfg;
	report_cfg_default(&cfg);
	struct report *r = report_new(&cfg);
	add_names(r, 127);
	uint64_t b127 = report_stats(r)->bytes;
	add_names(r, 128);
	uint64_t b128 = report_stats(r)->bytes, per_name = b128 - b127;
	add_names(r, 129);
	/* the 129th name, its pair, and both tables doubled: 2 x 256 new slots */
	assert_true(report_stats(r)->bytes - b128 >= per_name + 2 * 256 * 16);
	report_free(r);

	cfg.max_bytes = b128 + 3 * per_name;
	r = report_new(&cfg);
	add_names(r, 131);
	const struct report_stats *st = report_stats(r);
	assert_int_equal(st->names, 128);
	assert_int_equal(st->refused_name, 3);
	assert_true(st->bytes <= cfg.max_bytes);
	report_free(r);
}

/* Outputs never depend on the hash seed: the same flows under two seeds
 * give the same report, byte for byte. */
static void test_seed_does_not_change_outputs(void **state)
{
	static const struct hseed s1 = { { 1, 2 } }, s2 = { { 0x9e3779b97f4a7c15ull, 42 } };
	char *text[2];
	for (int k = 0; k < 2; k++) {
		struct report_cfg cfg;
		report_cfg_default(&cfg);
		cfg.seed = k ? &s2 : &s1;
		struct report *r = report_new(&cfg);
		assert_non_null(r);
		char name[32];
		for (int i = 0; i < 500; i++) {
			snprintf(name, sizeof(name), "n%d.example", i * 7919 % 500);
			add(r, 9198 + (uint32_t)(i % 3), name, i % 4 ? V_TLS_STALL : V_OK,
			    T0 + (uint64_t)i * HOUR / 10);
		}
		assert_int_equal(report_finalize(r), 0);
		text[k] = json_text(r);
		report_free(r);
	}
	assert_string_equal(text[0], text[1]);
	free(text[0]);
	free(text[1]);
}

/* ---- categories ----------------------------------------------------------- */

static struct testlist *small_list(void)
{
	struct testlist *tl = testlist_new(NULL);
	const char *csv = "url,category_code,category_description,date_added,source,notes\n"
			  "https://kloop.kg/,NEWS,News Media,,,\n"
			  "https://vlast.kz/,NEWS,News Media,,,\n"
			  "https://protonvpn.com/,ANON,Anonymization and circumvention tools,,,\n";
	assert_int_equal(testlist_load_buffer(tl, csv, strlen(csv), NULL, NULL), 0);
	return tl;
}

static void test_categories(void **state)
{
	struct testlist *tl = small_list();
	struct report *r = new_report(0, tl);
	add_n(r, 9198, "www.kloop.kg", V_TLS_STALL, 3, T0);
	add_n(r, 21299, "kloop.kg", V_TLS_STALL, 3, T0);
	add_n(r, 9198, "protonvpn.com", V_OK, 2, T0);
	add_n(r, 9198, "other.org", V_OK, 2, T0);
	assert_int_equal(report_finalize(r), 0);
	assert_string_equal(find_pair(r, 9198, "www.kloop.kg")->name->category, "NEWS");
	assert_string_equal(find_pair(r, 9198, "other.org")->name->category, "");
	size_t n;
	const struct report_category *c = report_categories(r, &n);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].code, "NEWS");
	assert_int_equal(c[0].listed, 2);
	assert_int_equal(c[0].domains_seen, 2);
	assert_int_equal(c[0].domains_blocked, 2);
	assert_int_equal(c[0].pairs_blocked, 2);
	assert_int_equal(c[0].flows, 6);
	assert_int_equal(c[0].anomalies, 6);
	assert_string_equal(c[1].code, "ANON");
	assert_int_equal(c[1].domains_blocked, 0);
	report_free(r);
	testlist_free(tl);
}

/* ---- outputs ---------------------------------------------------------------- */

static char *capture(void (*fn)(const struct report *, FILE *), const struct report *r)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	fn(r, f);
	long len = ftell(f);
	assert_true(len >= 0);
	char *buf = malloc((size_t)len + 1);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static struct report *lab_report(const struct testlist *tl)
{
	struct report *r = new_report(0, tl);
	add_n(r, 9198, "kloop.kg", V_TLS_STALL, 6, T0);
	add_n(r, 9198, "protonvpn.com", V_TLS_RESET, 4, T0 + HOUR);
	add_n(r, 21299, "kloop.kg", V_TLS_STALL, 3, T0);
	add_n(r, 64500, "kloop.kg", V_OK, 4, T0);
	add_n(r, 64500, "protonvpn.com", V_OK, 4, T0);
	struct report_flow rf = { .ts_us = T0, .verdict = V_OK, .client_asn = 64501,
				  .client_org = "Org, with \"quotes\"", .sni = "=cmd", .sni_len = 4 };
	report_add(r, &rf);
	assert_int_equal(report_finalize(r), 0);
	return r;
}

static void test_text_output(void **state)
{
	struct testlist *tl = small_list();
	struct report *r = lab_report(tl);
	char *t = capture(out_report_text, r);
	assert_non_null(strstr(t, "Networks\n"));
	assert_non_null(strstr(t, "AS9198     JSC Kazakhtelecom"));
	assert_non_null(strstr(t, "AS9198 JSC Kazakhtelecom: 2 blocked"));
	assert_non_null(strstr(t, "AS21299 Kar-Tel LLC: 1 blocked"));
	assert_null(strstr(t, "AS64500 Control Net:")); /* nothing blocked there */
	assert_non_null(strstr(t, "tls_reset"));
	assert_non_null(strstr(t, "Categories (test list)"));
	/* rows are aligned: the kloop.kg row and the header share column starts */
	const char *hdr = strstr(t, "  domain ");
	const char *row = strstr(t, "  kloop.kg ");
	assert_non_null(hdr);
	assert_non_null(row);
	assert_true((strstr(hdr, "category") - hdr) == (strstr(row, "NEWS") - row));
	free(t);
	report_free(r);
	testlist_free(tl);
}

static void test_csv_output(void **state)
{
	struct report *r = lab_report(NULL);
	char *t = capture(out_report_csv, r);
	int lines = 0;
	for (const char *p = t; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1 + 6); /* header + one row per network x name */
	assert_true(strncmp(t, "asn,as_org,domain,domain_is_address,category,flows,ok,tls_stall,",
			    64) == 0);
	assert_non_null(strstr(t, "\n9198,JSC Kazakhtelecom,kloop.kg,false,,6,0,6,"));
	assert_non_null(strstr(t, "\"Org, with \"\"quotes\"\"\""));
	assert_non_null(strstr(t, ",'=cmd,")); /* no spreadsheet formula */
	assert_non_null(strstr(t, ",blocked,true,tls_stall,"));
	free(t);
	report_free(r);
}

static char *json_text(const struct report *r)
{
	struct json j;
	json_init(&j);
	out_report_json(r, &j);
	assert_false(j.oom);
	char *s = strdup(j.buf);
	json_free(&j);
	return s;
}

static void test_json_output_fields(void **state)
{
	struct report *r = lab_report(NULL);
	char *t = json_text(r);
	char err[256];
	struct jr_doc *d = jr_parse(t, strlen(t), err, sizeof(err));
	assert_non_null(d);
	bool dup;
	jr_ref root = jr_root(d);
	assert_int_equal(jr_type(d, jr_get(d, root, "by_network", &dup)), JR_ARRAY);
	assert_int_equal(jr_type(d, jr_get(d, root, "by_domain_network", &dup)), JR_ARRAY);
	assert_int_equal(jr_type(d, jr_get(d, root, "by_domain", &dup)), JR_ARRAY);
	jr_free(d);
	assert_non_null(strstr(t, "\"asn\":9198,\"as_org\":\"JSC Kazakhtelecom\",\"domain\":"
				  "\"kloop.kg\""));
	assert_non_null(strstr(t, "\"conclusion\":{\"status\":\"blocked\",\"blocked\":true,"
				  "\"method\":\"tls_stall\",\"confidence\":0.7500"));
	assert_non_null(strstr(t, "\"domain\":\"kloop.kg\",\"domain_is_address\":false,"
				  "\"category\":null,\"flows\":13"));
	assert_non_null(strstr(t, "\"blocked_networks\":[9198,21299]"));
	free(t);
	report_free(r);
}

/* ---- merge ---------------------------------------------------------------- */

struct flowgen {
	uint64_t seed;
};

static uint32_t rnd(struct flowgen *g, uint32_t n)
{
	g->seed = g->seed * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)((g->seed >> 33) % n);
}

/* A mix of networks, names, verdicts and times over two days. */
static void gen_flow(struct flowgen *g, struct report_flow *rf, struct ts_addr *srv,
		     char *sni)
{
	static const uint32_t asns[] = { 9198, 21299, 41798, 64500, 0 };
	static const char *const orgs[] = { "JSC Kazakhtelecom", "Kar-Tel LLC", "Transtelecom",
					    "Control Net", "unknown" };
	static const char *const names[] = { "kloop.kg", "vlast.kz", "protonvpn.com",
					     "nordvpn.com", "example.org", "www.hrw.org", NULL };
	static const enum verdict vs[] = { V_OK, V_OK, V_TLS_STALL, V_TLS_RESET, V_SYN_TIMEOUT,
					   V_INCOMPLETE, V_TLS_ALERT, V_TLS_MITM, V_NOT_TLS };
	uint32_t k = rnd(g, 5);
	memset(rf, 0, sizeof(*rf));
	rf->client_asn = asns[k];
	rf->client_org = orgs[k];
	rf->ts_us = T0 + (uint64_t)rnd(g, 48 * 3600) * 1000000u + rnd(g, 1000000);
	rf->verdict = vs[rnd(g, sizeof(vs) / sizeof(vs[0]))];
	const char *n = names[rnd(g, 7)];
	if (n) {
		strcpy(sni, n);
		rf->sni = sni;
		rf->sni_len = strlen(sni);
	}
	memset(srv, 0, sizeof(*srv));
	srv->v4 = 1;
	srv->a[10] = srv->a[11] = 0xff;
	srv->a[12] = 203;
	srv->a[13] = 0;
	srv->a[14] = 113;
	srv->a[15] = (uint8_t)rnd(g, 4);
	rf->server = srv;
	rf->server_port = 443;
}

static void test_merge_equals_single_run(void **state)
{
	struct testlist *tl = small_list();
	struct report *a = new_report(0, tl), *b = new_report(0, tl), *ab = new_report(0, tl);
	struct flowgen g = { 7 };
	for (int i = 0; i < 3000; i++) {
		struct report_flow rf;
		struct ts_addr srv;
		char sni[64];
		gen_flow(&g, &rf, &srv, sni);
		report_add(i % 3 == 0 ? a : b, &rf);
		report_add(ab, &rf);
	}
	assert_int_equal(report_finalize(a), 0);
	assert_int_equal(report_finalize(b), 0);
	assert_int_equal(report_finalize(ab), 0);
	char *ja = json_text(a), *jb = json_text(b), *jab = json_text(ab);

	/* without a test list: categories come from the inputs */
	struct report_cfg cfg;
	report_cfg_default(&cfg);
	for (int order = 0; order < 2; order++) {
		struct report *m = NULL;
		char err[256];
		assert_int_equal(report_merge_text(&m, &cfg, order ? jb : ja, strlen(order ? jb : ja),
						   err, sizeof(err)), 0);
		assert_int_equal(report_merge_text(&m, &cfg, order ? ja : jb, strlen(order ? ja : jb),
						   err, sizeof(err)), 0);
		assert_int_equal(report_finalize(m), 0);
		char *jm = json_text(m);
		assert_string_equal(jm, jab);
		free(jm);
		report_free(m);
	}
	/* with the test list given to merge too */
	cfg.testlist = tl;
	struct report *m = NULL;
	char err[256];
	assert_int_equal(report_merge_text(&m, &cfg, ja, strlen(ja), err, sizeof(err)), 0);
	assert_int_equal(report_merge_text(&m, &cfg, jb, strlen(jb), err, sizeof(err)), 0);
	assert_int_equal(report_finalize(m), 0);
	char *jm = json_text(m);
	assert_string_equal(jm, jab);
	free(jm);
	report_free(m);

	/* merging a report with nothing else reproduces it */
	cfg.testlist = NULL;
	m = NULL;
	assert_int_equal(report_merge_text(&m, &cfg, jab, strlen(jab), err, sizeof(err)), 0);
	assert_int_equal(report_finalize(m), 0);
	jm = json_text(m);
	assert_string_equal(jm, jab);
	free(jm);
	report_free(m);

	free(ja);
	free(jb);
	free(jab);
	report_free(a);
	report_free(b);
	report_free(ab);
	testlist_free(tl);
}

/* Merging recomputes: two sensors each below --min-flows make a blocked
 * conclusion together, and a control network seen only by the other
 * sensor raises the confidence. */
static void test_merge_recomputes_conclusions(void **state)
{
	struct report *a = new_report(0, NULL), *b = new_report(0, NULL);
	add_n(a, 9198, "kloop.kg", V_TLS_STALL, 2, T0);
	add_n(b, 9198, "kloop.kg", V_TLS_STALL, 2, T0 + HOUR);
	add_n(b, 64500, "kloop.kg", V_OK, 2, T0);
	assert_int_equal(report_finalize(a), 0);
	assert_int_equal(report_finalize(b), 0);
	assert_int_equal(find_pair(a, 9198, "kloop.kg")->concl.status, RS_INCONCLUSIVE);
	assert_int_equal(find_pair(b, 9198, "kloop.kg")->concl.status, RS_INCONCLUSIVE);
	char *ja = json_text(a), *jb = json_text(b), err[256];
	struct report_cfg cfg;
	report_cfg_default(&cfg);
	struct report *m = NULL;
	assert_int_equal(report_merge_text(&m, &cfg, ja, strlen(ja), err, sizeof(err)), 0);
	assert_int_equal(report_merge_text(&m, &cfg, jb, strlen(jb), err, sizeof(err)), 0);
	const struct report_pair *p = conclude_one(m, 9198, "kloop.kg");
	assert_int_equal(p->concl.status, RS_BLOCKED);
	assert_int_equal(p->concl.cross_kind, RX_WORKS_ELSEWHERE);
	assert_true(fabs(p->concl.confidence - 4.0 / 6.0) < 1e-12);
	assert_int_equal(p->first_blocked_us, T0);
	assert_int_equal(p->last_blocked_us, T0 + HOUR + 1000000);
	assert_int_equal(p->nb, 2);
	report_free(m);
	/* --min-flows given to merge applies */
	cfg.min_flows = 5;
	m = NULL;
	assert_int_equal(report_merge_text(&m, &cfg, ja, strlen(ja), err, sizeof(err)), 0);
	assert_int_equal(report_merge_text(&m, &cfg, jb, strlen(jb), err, sizeof(err)), 0);
	assert_int_equal(conclude_one(m, 9198, "kloop.kg")->concl.status, RS_INCONCLUSIVE);
	report_free(m);
	free(ja);
	free(jb);
	report_free(a);
	report_free(b);
}

static int merge_err(const char *text, char *err, size_t errlen)
{
	struct report_cfg cfg;
	report_cfg_default(&cfg);
	struct report *m = NULL;
	int rc = report_merge_text(&m, &cfg, text, strlen(text), err, errlen);
	report_free(m);
	return rc;
}

/* Replace the first occurrence of from by to in a copy of s. */
static char *edit(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	assert_non_null(p);
	char *out = malloc(strlen(s) + strlen(to) + 1);
	size_t pre = (size_t)(p - s);
	memcpy(out, s, pre);
	strcpy(out + pre, to);
	strcat(out, p + strlen(from));
	return out;
}

static void expect_rejected(const char *base, const char *from, const char *to,
			    const char *why)
{
	char *t = edit(base, from, to);
	char err[256] = "";
	if (merge_err(t, err, sizeof(err)) != -1)
		fail_msg("'%s' -> '%s': accepted", from, to);
	if (!strstr(err, why))
		fail_msg("'%s' -> '%s': error '%s' lacks '%s'", from, to, err, why);
	free(t);
}

static void test_merge_rejects_bad_reports(void **state)
{
	struct report *r = lab_report(NULL);
	char *t = json_text(r);
	char err[256];
	assert_int_equal(merge_err(t, err, sizeof(err)), 0);
	expect_rejected(t, "tamperscope-report", "other-report", "not a tamperscope report");
	expect_rejected(t, "\"format_version\":1", "\"format_version\":2", "format_version");
	expect_rejected(t, "\"time_bucket_us\":3600000000", "\"time_bucket_us\":0", "is 0");
	expect_rejected(t, "\"flows\":6,\"verdicts\":{\"tls_stall\":6}",
			"\"flows\":7,\"verdicts\":{\"tls_stall\":6}", "add up");
	expect_rejected(t, "\"tls_stall\":6", "\"tls_bogus\":6", "unknown verdict");
	expect_rejected(t, "\"tls_stall\":6", "\"tls_stall\":-6", "verdict");
	expect_rejected(t, "\"tls_stall\":6", "\"tls_stall\":6.5", "verdict");
	expect_rejected(t, "\"asn\":9198", "\"asn\":4294967296", "asn out of range");
	expect_rejected(t, "\"asn\":9198", "\"asn\":9198,\"asn\":9198", "duplicate");
	expect_rejected(t, "\"domain\":\"kloop.kg\"", "\"domain\":\"KLOOP.kg\"", "normalised");
	expect_rejected(t, "\"as_org\":\"JSC Kazakhtelecom\"", "\"as_org\":\"JSC\\u001b[2J\"",
			"control characters");
	expect_rejected(t, "\"first_blocked_us\":", "\"first_blocked_us\":null,\"x\":", "timeline");
	expect_rejected(t, "\"start_us\":", "\"start_us\":1,\"y\":", "aligned");
	expect_rejected(t, "\"ok\":0,\"blocked\":6", "\"ok\":0,\"blocked\":7", "bucket counts");
	expect_rejected(t, "\"not_attributed\":{\"network\":0", "\"not_attributed\":{\"network\":1",
			"add up");
	expect_rejected(t, "\"by_domain\":[", "\"by_domain\":{\"a\":[", "line 1");
	/* reports with different time buckets do not merge */
	struct report_cfg cfg;
	report_cfg_default(&cfg);
	struct report *m = NULL;
	assert_int_equal(report_merge_text(&m, &cfg, t, strlen(t), err, sizeof(err)), 0);
	char *t2 = edit(t, "\"time_bucket_us\":3600000000", "\"time_bucket_us\":60000000");
	assert_int_equal(report_merge_text(&m, &cfg, t2, strlen(t2), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "time buckets differ"));
	report_free(m);
	free(t2);
	free(t);
	report_free(r);
}

/* Every prefix of a valid report is rejected cleanly (or, the whole text,
 * accepted): no crash, no leak, no overread. */
static void test_merge_truncated_reports(void **state)
{
	struct report *r = lab_report(NULL);
	char *t = json_text(r);
	size_t len = strlen(t);
	for (size_t cut = 0; cut < len; cut++) {
		char *copy = malloc(cut + 1);
		memcpy(copy, t, cut);
		struct report_cfg cfg;
		report_cfg_default(&cfg);
		struct report *m = NULL;
		char err[256];
		int rc = report_merge_text(&m, &cfg, copy, cut, err, sizeof(err));
		assert_int_equal(rc, -1);
		report_free(m);
		free(copy);
	}
	free(t);
	report_free(r);
}

static void test_merge_files_and_command(void **state)
{
	struct report *r = lab_report(NULL);
	char pa[] = "/tmp/ts-test-report-XXXXXX";
	int fd = mkstemp(pa);
	assert_true(fd >= 0);
	close(fd);
	char err[256];
	assert_int_equal(out_report_write_json(r, pa, err, sizeof(err)), 0);
	char out[64];
	snprintf(out, sizeof(out), "%s.merged", pa);
	char *argv[] = { "merge", pa, pa, "--report-json", out, "-q", NULL };
	assert_int_equal(report_merge_main(6, argv), 0);
	struct report_cfg cfg;
	report_cfg_default(&cfg);
	struct report *m = NULL;
	assert_int_equal(report_merge_file(&m, &cfg, out, err, sizeof(err)), 0);
	/* A merged with itself: every count doubles */
	const struct report_pair *p = conclude_one(m, 9198, "kloop.kg");
	assert_int_equal(p->c.flows, 12);
	report_free(m);
	char *bad_argv[] = { "merge", "/nonexistent/report.json", "-q", NULL };
	assert_int_equal(report_merge_main(3, bad_argv), 1);
	char *usage_argv[] = { "merge", NULL };
	assert_int_equal(report_merge_main(1, usage_argv), 2);
	char *flows_argv[] = { "merge", pa, "--min-flows", "0", NULL };
	assert_int_equal(report_merge_main(4, flows_argv), 2);
	assert_int_equal(report_merge_file(&m, &cfg, "/nonexistent/x.json", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/x.json"));
	unlink(pa);
	unlink(out);
	report_free(r);
}

/* ---- the JSON reader ---------------------------------------------------- */

static void expect_json_bad(const char *text, const char *why)
{
	char err[256] = "";
	struct jr_doc *d = jr_parse(text, strlen(text), err, sizeof(err));
	if (d) {
		jr_free(d);
		fail_msg("accepted: %s", text);
	}
	if (!strstr(err, why))
		fail_msg("'%s': error '%s' lacks '%s'", text, err, why);
}

static void test_jsonread_strict(void **state)
{
	expect_json_bad("", "end of input");
	expect_json_bad("{\"a\":1,}", "member name");
	expect_json_bad("[1,]", "unexpected character");
	expect_json_bad("[01]", "expected , or ]");
	expect_json_bad("[1.]", "fraction");
	expect_json_bad("[1e]", "exponent");
	expect_json_bad("[-]", "bad number");
	expect_json_bad("[NaN]", "unexpected character");
	expect_json_bad("[tru]", "literal");
	expect_json_bad("{\"a\" 1}", "expected :");
	expect_json_bad("\"abc", "unterminated string");
	expect_json_bad("\"a\tb\"", "control character");
	expect_json_bad("\"\\x\"", "bad escape");
	expect_json_bad("\"\\u12\"", "\\u escape");
	expect_json_bad("\"\\ud800\"", "high surrogate");
	expect_json_bad("\"\\udc00\"", "low surrogate");
	expect_json_bad("\"\\u0000\"", "u0000");
	expect_json_bad("\"\xff\"", "UTF-8");
	expect_json_bad("\"\xc0\xaf\"", "UTF-8");
	expect_json_bad("\"\xed\xa0\x80\"", "UTF-8");
	expect_json_bad("{} {}", "after the JSON value");
	expect_json_bad("{\n\"a\":\n[1,,2]}", "line 3");
	/* depth cap */
	char deep[200];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	expect_json_bad(deep, "nested too deeply");
}

static void test_jsonread_values(void **state)
{
	const char *text = " {\"s\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\xc3\xa9\","
			   "\"n\":18446744073709551615,\"big\":18446744073709551616,"
			   "\"neg\":-1,\"f\":1.5e3,\"t\":true,\"z\":null,\"a\":[1,[2],{}],"
			   "\"d\":1,\"d\":2} ";
	char err[256];
	struct jr_doc *d = jr_parse(text, strlen(text), err, sizeof(err));
	assert_non_null(d);
	jr_ref root = jr_root(d);
	bool dup, b;
	const char *s;
	size_t len;
	uint64_t u;
	assert_int_equal(jr_str(d, jr_get(d, root, "s", &dup), &s, &len), 0);
	assert_string_equal(s, "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9");
	assert_int_equal(len, strlen(s));
	assert_int_equal(jr_u64(d, jr_get(d, root, "n", &dup), &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(jr_u64(d, jr_get(d, root, "big", &dup), &u), -1);
	assert_int_equal(jr_u64(d, jr_get(d, root, "neg", &dup), &u), -1);
	assert_int_equal(jr_u64(d, jr_get(d, root, "f", &dup), &u), -1);
	assert_int_equal(jr_bool(d, jr_get(d, root, "t", &dup), &b), 0);
	assert_true(b);
	assert_int_equal(jr_type(d, jr_get(d, root, "z", &dup)), JR_NULL);
	jr_ref a = jr_get(d, root, "a", &dup);
	assert_int_equal(jr_count(d, a), 3);
	assert_int_equal(jr_type(d, jr_next(d, jr_first(d, a))), JR_ARRAY);
	assert_int_equal(jr_get(d, root, "d", &dup), JR_NONE);
	assert_true(dup);
	assert_int_equal(jr_get(d, root, "missing", &dup), JR_NONE);
	assert_false(dup);
	assert_int_equal(jr_get(d, a, "x", &dup), JR_NONE); /* not an object */
	assert_int_equal(jr_str(d, a, &s, &len), -1);
	assert_int_equal(jr_first(d, JR_NONE), JR_NONE);
	jr_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_per_level),
		cmocka_unit_test(test_no_sni_uses_server_address),
		cmocka_unit_test(test_endpoint_key_format),
		cmocka_unit_test(test_hostile_names_normalised),
		cmocka_unit_test(test_threshold_min_flows),
		cmocka_unit_test(test_threshold_anomaly_share),
		cmocka_unit_test(test_threshold_consistency),
		cmocka_unit_test(test_quic_next_to_tcp),
		cmocka_unit_test(test_dns_error_cross_network),
		cmocka_unit_test(test_alert_is_failure_not_anomaly),
		cmocka_unit_test(test_confidence_rises_with_flow_count),
		cmocka_unit_test(test_cross_network_factor),
		cmocka_unit_test(test_timeline_onset_and_buckets),
		cmocka_unit_test(test_custom_bucket),
		cmocka_unit_test(test_memory_cap_counts_refusals),
		cmocka_unit_test(test_memory_cap_counts_table_growth),
		cmocka_unit_test(test_seed_does_not_change_outputs),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_text_output),
		cmocka_unit_test(test_csv_output),
		cmocka_unit_test(test_json_output_fields),
		cmocka_unit_test(test_merge_equals_single_run),
		cmocka_unit_test(test_merge_recomputes_conclusions),
		cmocka_unit_test(test_merge_rejects_bad_reports),
		cmocka_unit_test(test_merge_truncated_reports),
		cmocka_unit_test(test_merge_files_and_command),
		cmocka_unit_test(test_jsonread_strict),
		cmocka_unit_test(test_jsonread_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* out_html.c - the report as one self-contained HTML page with inline SVG
 * charts (see out_html.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"

#include "certstats.h"
#include "icptfind.h"
#include "out_html.h"

/* ---- text ------------------------------------------------------------------ */

/* Text into HTML (element content and quoted attributes alike). */
static void esc(FILE *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default: fputc(*s, o);
		}
	}
}

/* At most max code points of s, with an ellipsis when cut. */
static void esc_cut(FILE *o, const char *s, size_t max)
{
	char buf[512];
	size_t w = 0, i = 0;
	for (; s[i] && i + 4 < sizeof(buf); i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && w++ == max)
			break;
		buf[i] = s[i];
	}
	buf[i] = '\0';
	esc(o, buf);
	if (s[i])
		fputs("…", o);
}

static void utc(uint64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "-");
}

/* Verdict colours: green works, reds and purples are interference, ambers
 * are failures that are not, greys say nothing. */
static const char *colour(int v)
{
	static const char *const c[V__COUNT] = {
		[V_OK] = "#2e7d32", [V_TLS_STALL] = "#c62828", [V_TLS_RESET] = "#ad1457",
		[V_SYN_TIMEOUT] = "#6a1b9a", [V_SYN_RESET] = "#4527a0", [V_TLS_MITM] = "#d84315",
		[V_TLS_ALERT] = "#f9a825", [V_TLS_UNTRUSTED_CERT] = "#8d6e63",
		[V_CLIENT_ABORT] = "#90a4ae", [V_INCOMPLETE] = "#cfd8dc", [V_NOT_TLS] = "#b0bec5",
	};
	return v >= 0 && v < V__COUNT && c[v] ? c[v] : "#9e9e9e";
}

static const char STYLE[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
	"margin:0;color:#1f2328;background:#fff;line-height:1.45}"
	"main{max-width:1100px;margin:0 auto;padding:24px 28px 48px}"
	"h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:34px 0 8px;"
	"border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}"
	".sub{color:#57606a;margin:0 0 14px}.note{color:#57606a;font-size:13px}"
	"table{border-collapse:collapse;width:100%;font-size:14px;margin:6px 0}"
	"th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}"
	"th{background:#f6f8fa;font-weight:600;white-space:nowrap}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	".how{color:#57606a;font-size:13px;padding-top:0;border-bottom:1px solid #d0d7de}"
	".pill{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;"
	"font-weight:600}.key{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px;margin:6px 0}"
	".key span::before{content:'';display:inline-block;width:11px;height:11px;margin-right:5px;"
	"border-radius:2px;background:var(--c);vertical-align:-1px}"
	".findings li{margin:3px 0}.chain{font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
	"font-size:12px;margin:0;padding-left:18px}.conf{display:inline-block;height:8px;"
	"background:#c62828;border-radius:2px;vertical-align:middle;margin-right:6px}"
	"svg text{font-family:inherit}code{font-size:13px}";

/* ---- header and summary ------------------------------------------------------ */

/* The first and last flow start the report dates (ok and interference
 * flows carry times; others only their time bucket). */
static void span_of(const struct report *r, uint64_t *lo, uint64_t *hi)
{
	size_t n;
	struct report_pair *const *pairs = report_pairs(r, &n);
	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < n; i++) {
		const struct report_pair *p = pairs[i];
		struct report_share s;
		report_counts_share(&p->c, &s);
		if (p->c.n[V_OK]) {
			*lo = p->first_ok_us < *lo ? p->first_ok_us : *lo;
			*hi = p->last_ok_us > *hi ? p->last_ok_us : *hi;
		}
		if (s.anomalies) {
			*lo = p->first_blocked_us < *lo ? p->first_blocked_us : *lo;
			*hi = p->last_blocked_us > *hi ? p->last_blocked_us : *hi;
		}
	}
}

static size_t blocked_pairs(const struct report *r)
{
	size_t n, k = 0;
	struct report_pair *const *pairs = report_pairs(r, &n);
	for (size_t i = 0; i < n; i++)
		k += pairs[i]->concl.status == RS_BLOCKED;
	return k;
}

static void pill(FILE *o, int v)
{
	fprintf(o, "<span class=\"pill\" style=\"background:%s\">%s</span>", colour(v),
		verdict_name((enum verdict)v));
}

static void header(FILE *o, const struct report *r, const struct out_html_extra *x)
{
	size_t nn;
	uint64_t lo, hi;
	char a[32], b[32];
	report_nets(r, &nn);
	span_of(r, &lo, &hi);
	fputs("<header><h1>Network interference report</h1><p class=\"sub\">", o);
	fprintf(o, "%" PRIu64 " flows on %zu network%s; %zu domain–network pair%s blocked",
		report_stats(r)->flows, nn, nn == 1 ? "" : "s", blocked_pairs(r),
		blocked_pairs(r) == 1 ? "" : "s");
	if (hi >= lo && lo != UINT64_MAX) {
		utc(lo, a, sizeof(a));
		utc(hi, b, sizeof(b));
		fprintf(o, "; flows starting from %s to %s UTC", a, b);
	}
	if (x && x->source) {
		fputs("; ", o);
		esc(o, x->source);
	}
	fputs(".</p></header>\n", o);
}

/* The conclusions in one list, most confident first: what the page is for. */
static int by_confidence(const void *x, const void *y)
{
	const struct report_pair *a = *(const struct report_pair *const *)x;
	const struct report_pair *b = *(const struct report_pair *const *)y;
	if (a->concl.confidence != b->concl.confidence)
		return a->concl.confidence > b->concl.confidence ? -1 : 1;
	int c = strcmp(a->name->name, b->name->name);
	return c ? c : (a->net->asn > b->net->asn) - (a->net->asn < b->net->asn);
}

static void findings(FILE *o, const struct report *r)
{
	size_t n, k = 0;
	struct report_pair *const *pairs = report_pairs(r, &n);
	const struct report_pair **list = malloc((n + 1) * sizeof(*list));
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		if (pairs[i]->concl.status == RS_BLOCKED)
			list[k++] = pairs[i];
	qsort(list, k, sizeof(*list), by_confidence);
	fputs("<h2 id=\"findings\">Findings</h2>\n", o);
	if (k == 0)
		fputs("<p>No domain is concluded blocked on any network.</p>\n", o);
	fputs("<ul class=\"findings\">\n", o);
	for (size_t i = 0; i < k && i < 20; i++) {
		fputs("<li><b>", o);
		esc(o, list[i]->name->name);
		fprintf(o, "</b> is blocked on AS%" PRIu32 " ", list[i]->net->asn);
		esc(o, list[i]->net->org);
		fputs(" by ", o);
		pill(o, list[i]->concl.method);
		fprintf(o, " (confidence %.2f)</li>\n", list[i]->concl.confidence);
	}
	if (k > 20)
		fprintf(o, "<li>… and %zu more in the tables below.</li>\n", k - 20);
	fputs("</ul>\n", o);
	free(list);
}

/* ---- networks ------------------------------------------------------------------ */

static void net_table(FILE *o, const struct report *r)
{
	size_t n;
	struct report_net *const *nets = report_nets(r, &n);
	fputs("<h2 id=\"networks\">Networks</h2>\n<table><tr><th>network</th><th>organisation</th>"
	      "<th class=\"n\">flows</th><th class=\"n\">ok</th><th class=\"n\">interference</th>"
	      "<th class=\"n\">share</th><th>most frequent failure</th><th class=\"n\">domains</th>"
	      "<th class=\"n\">blocked</th></tr>\n", o);
	for (size_t i = 0; i < n; i++) {
		const struct report_net *net = nets[i];
		struct report_share s;
		report_counts_share(&net->c, &s);
		fprintf(o, "<tr data-asn=\"%" PRIu32 "\" data-flows=\"%" PRIu64 "\" data-ok=\"%" PRIu64
			"\" data-anomalies=\"%" PRIu64 "\" data-blocked-domains=\"%" PRIu32 "\">"
			"<td>AS%" PRIu32 "</td><td>", net->asn, net->c.flows, net->c.n[V_OK],
			s.anomalies, net->blocked_names, net->asn);
		esc(o, net->org);
		fprintf(o, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td>"
			"<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%.1f%%</td><td>", net->c.flows,
			net->c.n[V_OK], s.anomalies, 100.0 * s.anomaly_share);
		if (s.dominant < V__COUNT)
			fprintf(o, "%s (%.0f%%)", verdict_name(s.dominant), 100.0 * s.dominant_share);
		else
			fputs("–", o);
		fprintf(o, "</td><td class=\"n\">%" PRIu32 "</td><td class=\"n\">%" PRIu32 "</td></tr>\n",
			net->names, net->blocked_names);
	}
	if (n == 0)
		fputs("<tr><td colspan=\"9\">No flows.</td></tr>\n", o);
	fputs("</table>\n", o);
}

static void legend(FILE *o, const uint64_t *present)
{
	fputs("<div class=\"key\">", o);
	for (int v = 0; v < V__COUNT; v++)
		if (present[v])
			fprintf(o, "<span style=\"--c:%s\">%s</span>", colour(v),
				verdict_name((enum verdict)v));
	fputs("</div>\n", o);
}

#define MIX_LABEL 250
#define MIX_BAR 640
#define MIX_ROW 26

/* One bar per network, 100% wide, split by verdict. */
static void mix_chart(FILE *o, const struct report *r)
{
	size_t n;
	struct report_net *const *nets = report_nets(r, &n);
	uint64_t present[V__COUNT] = { 0 };
	for (size_t i = 0; i < n; i++)
		for (int v = 0; v < V__COUNT; v++)
			present[v] += nets[i]->c.n[v];
	fputs("<h3>Verdict mix per network</h3>\n", o);
	legend(o, present);
	fprintf(o, "<svg role=\"img\" aria-label=\"verdict mix per network\" width=\"%d\" "
		"height=\"%zu\" viewBox=\"0 0 %d %zu\">\n", MIX_LABEL + MIX_BAR + 90,
		n * MIX_ROW + 4, MIX_LABEL + MIX_BAR + 90, n * MIX_ROW + 4);
	for (size_t i = 0; i < n; i++) {
		const struct report_net *net = nets[i];
		size_t y = i * MIX_ROW + 2;
		fprintf(o, "<text x=\"0\" y=\"%zu\" font-size=\"13\">AS%" PRIu32 " ", y + 16, net->asn);
		esc_cut(o, net->org, 24);
		fputs("</text>\n", o);
		double x = MIX_LABEL;
		for (int v = 0; v < V__COUNT && net->c.flows; v++) {
			if (!net->c.n[v])
				continue;
			double w = (double)MIX_BAR * (double)net->c.n[v] / (double)net->c.flows;
			fprintf(o, "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"20\" fill=\"%s\">"
				"<title>AS%" PRIu32 ": %s %" PRIu64 " of %" PRIu64 "</title></rect>\n", x, y,
				w, colour(v), net->asn, verdict_name((enum verdict)v), net->c.n[v],
				net->c.flows);
			x += w;
		}
		fprintf(o, "<text x=\"%d\" y=\"%zu\" font-size=\"13\" fill=\"#57606a\">%" PRIu64
			" flows</text>\n", MIX_LABEL + MIX_BAR + 8, y + 15, net->c.flows);
	}
	fputs("</svg>\n", o);
}

/* ---- blocked domains, and how we know ---------------------------------------------- */

/* The evidence counts behind a conclusion, in words (report.h's formula). */
static void how_we_know(FILE *o, const struct report_pair *p, uint32_t min_flows)
{
	const struct report_conclusion *k = &p->concl;
	struct report_share s;
	report_counts_share(&p->c, &s);
	uint64_t by_method = k->method < V__COUNT ? p->c.n[k->method] : 0;
	fprintf(o, "How we know: %" PRIu64 " of %" PRIu64 " measured flows were interference "
		"(%.0f%%), %" PRIu64 " of them %s (consistency %.0f%%); %" PRIu64 " flows, at least %"
		PRIu32 " needed (sample factor %.2f); ", s.anomalies, s.measured,
		100.0 * k->anomaly_share, by_method,
		k->method < V__COUNT ? verdict_name(k->method) : "-", 100.0 * k->consistency,
		s.measured, min_flows, k->sample);
	switch (k->cross_kind) {
	case RX_WORKS_ELSEWHERE: fputs("the domain works on another network", o); break;
	case RX_FAILS_ELSEWHERE: fputs("the domain fails on other networks too", o); break;
	default: fputs("the domain was seen on this network only", o); break;
	}
	fprintf(o, " (cross-network factor %.2f)", k->cross);
	if (p->c.injected)
		fprintf(o, "; %" PRIu64 " flows carried injection evidence (TTL, IP ID, timing)",
			p->c.injected);
	if (k->method < V__COUNT && report_method_needs_corroboration(k->method)) {
		fputs("; corroborated by: ", o);
		const char *sep = "";
		for (unsigned bit = RC_REACHABLE; bit <= RC_TEST_LIST; bit <<= 1) {
			if (k->corroboration & bit) {
				fprintf(o, "%s%s", sep, report_corroboration_name(bit));
				sep = ", ";
			}
		}
		if (!*sep)
			fputs("nothing", o);
	}
	fprintf(o, " → confidence %.2f.", k->confidence);
}

static void blocked_row(FILE *o, const struct report_pair *p, uint32_t min_flows)
{
	struct report_share s;
	char t0[32] = "–", t1[32] = "–";
	report_counts_share(&p->c, &s);
	if (s.anomalies) {
		utc(p->first_blocked_us, t0, sizeof(t0));
		utc(p->last_blocked_us, t1, sizeof(t1));
	}
	fprintf(o, "<tr data-asn=\"%" PRIu32 "\" data-domain=\"", p->net->asn);
	esc(o, p->name->name);
	fprintf(o, "\" data-method=\"%s\" data-confidence=\"%.4f\" data-flows=\"%" PRIu64
		"\" data-anomalies=\"%" PRIu64 "\"><td>", verdict_name(p->concl.method),
		p->concl.confidence, p->c.flows, s.anomalies);
	esc(o, p->name->name);
	if (p->name->category[0]) {
		fputs(" <span class=\"note\">(", o);
		esc(o, p->name->category);
		fputs(")</span>", o);
	}
	fputs("</td><td>", o);
	pill(o, p->concl.method);
	fprintf(o, "</td><td class=\"n\"><span class=\"conf\" style=\"width:%.0fpx\"></span>%.2f</td>"
		"<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td>%s</td><td>%s</td>"
		"</tr>\n<tr><td class=\"how\" colspan=\"7\">", 60.0 * p->concl.confidence,
		p->concl.confidence, p->c.flows, s.anomalies, t0, t1);
	how_we_know(o, p, min_flows);
	fputs("</td></tr>\n", o);
}

/* Pairs with some interference but no conclusion, named so that a reader
 * does not wonder what "inconclusive" hides. */
static void inconclusive_line(FILE *o, struct report_pair *const *pairs, size_t from, size_t to)
{
	const char *sep = "";
	fputs("<p class=\"note\">Inconclusive (too few flows, mixed failures or not corroborated): ",
	      o);
	for (size_t i = from; i < to; i++) {
		if (pairs[i]->concl.status != RS_INCONCLUSIVE)
			continue;
		struct report_share s;
		report_counts_share(&pairs[i]->c, &s);
		fputs(sep, o);
		esc(o, pairs[i]->name->name);
		fprintf(o, " (%" PRIu64 " of %" PRIu64 " flows interference)", s.anomalies,
			s.measured);
		sep = "; ";
	}
	fputs(".</p>\n", o);
}

/* The blocked pairs of the network starting at pairs[i]; the index after. */
static size_t blocked_network(FILE *o, struct report_pair *const *pairs, size_t n, size_t i,
			      const struct report_pair **tmp, uint32_t min_flows)
{
	const struct report_net *net = pairs[i]->net;
	size_t k = 0, inconclusive = 0, start = i;
	for (; i < n && pairs[i]->net == net; i++) {
		inconclusive += pairs[i]->concl.status == RS_INCONCLUSIVE;
		if (pairs[i]->concl.status == RS_BLOCKED)
			tmp[k++] = pairs[i];
	}
	if (k == 0)
		return i;
	qsort(tmp, k, sizeof(*tmp), by_confidence);
	fprintf(o, "<h3>AS%" PRIu32 " ", net->asn);
	esc(o, net->org);
	fprintf(o, ": %zu blocked", k);
	if (inconclusive)
		fprintf(o, ", %zu inconclusive", inconclusive);
	fputs("</h3>\n<table><tr><th>domain</th><th>method</th><th class=\"n\">confidence</th>"
	      "<th class=\"n\">flows</th><th class=\"n\">interference</th><th>first blocked (UTC)"
	      "</th><th>last blocked (UTC)</th></tr>\n", o);
	for (size_t j = 0; j < k; j++)
		blocked_row(o, tmp[j], min_flows);
	fputs("</table>\n", o);
	if (inconclusive)
		inconclusive_line(o, pairs, start, i);
	return i;
}

static void blocked_section(FILE *o, const struct report *r)
{
	size_t n;
	struct report_pair *const *pairs = report_pairs(r, &n);
	const struct report_pair **tmp = malloc((n + 1) * sizeof(*tmp));
	if (!tmp)
		return;
	fputs("<h2 id=\"blocked\">Blocked domains per network</h2>\n<p class=\"note\">A domain is "
	      "called blocked on a network when most of its measured flows there met the same kind "
	      "of interference; confidence = interference share × consistency × n/(n+2) × "
	      "cross-network factor.</p>\n", o);
	for (size_t i = 0; i < n;)
		i = blocked_network(o, pairs, n, i, tmp, report_get_cfg(r)->min_flows);
	if (blocked_pairs(r) == 0)
		fputs("<p>No domain is blocked on any network.</p>\n", o);
	free(tmp);
}

/* ---- the timeline: domain x network over time (OONI Explorer's MAT chart) -------- */

#define TL_ROWS 40      /* pairs shown; the rest are in the tables */
#define TL_COLS 60      /* columns; more buckets are grouped */
#define TL_LABEL 300
#define TL_WIDTH 660
#define TL_ROW 22

struct tl_cell { uint64_t flows, ok, blocked; };

static bool tl_shown(const struct report_pair *p)
{
	struct report_share s;
	report_counts_share(&p->c, &s);
	return s.anomalies > 0 || p->concl.status == RS_BLOCKED;
}

/* Sum a pair's buckets into columns of `group` buckets from lo. */
static void tl_cells(const struct report_pair *p, uint64_t lo, uint64_t step, size_t cols,
		     struct tl_cell *c)
{
	memset(c, 0, cols * sizeof(*c));
	for (uint32_t b = 0; b < p->nb; b++) {
		size_t col = (size_t)((p->b[b].start_us - lo) / step);
		if (col >= cols)
			col = cols - 1;
		c[col].flows += p->b[b].flows;
		c[col].ok += p->b[b].ok;
		c[col].blocked += p->b[b].blocked;
	}
}

/* Flows of the pair counted as interference that its buckets do not show:
 * re-labelled at the end of the run (report_relabel). */
static bool pair_relabelled(const struct report_pair *p)
{
	struct report_share s;
	uint64_t in_buckets = 0;
	report_counts_share(&p->c, &s);
	for (uint32_t b = 0; b < p->nb; b++)
		in_buckets += p->b[b].blocked;
	return s.anomalies > in_buckets;
}

static bool relabelled(const struct report *r)
{
	size_t n;
	struct report_pair *const *pairs = report_pairs(r, &n);
	for (size_t i = 0; i < n; i++)
		if (tl_shown(pairs[i]) && pair_relabelled(pairs[i]))
			return true;
	return false;
}

static void tl_row(FILE *o, const struct report_pair *p, size_t row, uint64_t lo, uint64_t step,
		   size_t cols, double cw, struct tl_cell *c)
{
	size_t y = row * TL_ROW + 4;
	fprintf(o, "<text x=\"0\" y=\"%zu\" font-size=\"12\">", y + 14);
	esc_cut(o, p->name->name, 26);
	fprintf(o, " <tspan fill=\"#57606a\">AS%" PRIu32 "%s</tspan></text>\n", p->net->asn,
		pair_relabelled(p) ? " *" : "");
	tl_cells(p, lo, step, cols, c);
	for (size_t i = 0; i < cols; i++) {
		double x = TL_LABEL + (double)i * cw;
		fprintf(o, "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"18\" fill=\"#f3f4f6\"/>",
			x, y, cw - 1);
		if (!c[i].flows) {
			fputc('\n', o);
			continue;
		}
		/* ok at the bottom, other failures, interference on top */
		double h_ok = 18.0 * (double)c[i].ok / (double)c[i].flows;
		double h_bl = 18.0 * (double)c[i].blocked / (double)c[i].flows;
		double h_other = 18.0 - h_ok - h_bl;
		char t[32];
		utc(lo + i * step, t, sizeof(t));
		fputs("<g><title>", o);
		esc(o, p->name->name);
		fprintf(o, " on AS%" PRIu32 ", from %s UTC: %" PRIu64 " flows, %" PRIu64 " ok, %"
			PRIu64 " interference</title>", p->net->asn, t, c[i].flows, c[i].ok,
			c[i].blocked);
		fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#c62828\"/>",
			x, (double)y, cw - 1, h_bl);
		fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#bdbdbd\"/>",
			x, (double)y + h_bl, cw - 1, h_other);
		fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2e7d32\"/>"
			"</g>\n", x, (double)y + h_bl + h_other, cw - 1, h_ok);
	}
}

static void timeline(FILE *o, const struct report *r)
{
	size_t n, rows = 0;
	struct report_pair *const *pairs = report_pairs(r, &n);
	uint64_t lo = UINT64_MAX, hi = 0, bucket = report_get_cfg(r)->bucket_us;
	for (size_t i = 0; i < n; i++) {
		if (!tl_shown(pairs[i]))
			continue;
		rows++;
		for (uint32_t b = 0; b < pairs[i]->nb; b++) {
			lo = pairs[i]->b[b].start_us < lo ? pairs[i]->b[b].start_us : lo;
			hi = pairs[i]->b[b].start_us > hi ? pairs[i]->b[b].start_us : hi;
		}
	}
	fputs("<h2 id=\"timeline\">Timeline</h2>\n", o);
	if (rows == 0 || lo > hi) {
		fputs("<p>No interference to show over time.</p>\n", o);
		return;
	}
	uint64_t nb = (hi - lo) / bucket + 1;
	uint64_t group = (nb + TL_COLS - 1) / TL_COLS;
	size_t cols = (size_t)((nb + group - 1) / group), shown = rows < TL_ROWS ? rows : TL_ROWS;
	double cw = (double)TL_WIDTH / (double)cols;
	if (cw > 48)
		cw = 48;
	struct tl_cell *c = calloc(cols, sizeof(*c));
	if (!c)
		return;
	char a[32], b[32];
	utc(lo, a, sizeof(a));
	utc(lo + cols * group * bucket, b, sizeof(b));
	fprintf(o, "<p class=\"note\">Each row is a domain on a network; the columns run from %s "
		"to %s UTC, %" PRIu64 " min each, and split each column's flows into ok (green), "
		"other failures (grey) and interference (red); --time-bucket sets the width.%s</p>\n", a, b,
		group * bucket / 60000000u,
		rows > shown ? " Only the first rows are drawn; the tables list every pair." : "");
	size_t height = shown * TL_ROW + 8;
	fprintf(o, "<svg role=\"img\" aria-label=\"timeline per domain and network\" width=\"%.0f\" "
		"height=\"%zu\">\n", TL_LABEL + cw * (double)cols + 10, height);
	for (size_t i = 0, row = 0; i < n && row < shown; i++)
		if (tl_shown(pairs[i]))
			tl_row(o, pairs[i], row++, lo, group * bucket, cols, cw, c);
	fputs("</svg>\n", o);
	if (relabelled(r))
		fputs("<p class=\"note\">* Some of these flows were found intercepted only at the end "
		      "of the run, by comparing certificate chains across networks: the columns show "
		      "them as they ended (a chain that did not validate, grey).</p>\n", o);
	free(c);
}

/* ---- interception certificates ---------------------------------------------------- */

static void icpt_table(FILE *o, const struct icptfind *fs)
{
	fputs("<table><tr><th>network</th><th>interception CA</th><th>matched by</th>"
	      "<th class=\"n\">flows</th><th>domains</th><th>chain the clients were shown "
	      "(subject ← issuer)</th></tr>\n", o);
	for (size_t i = 0; i < fs->n; i++) {
		const struct icpt_finding *f = &fs->f[i];
		fprintf(o, "<tr data-asn=\"%" PRIu32 "\" data-flows=\"%" PRIu64 "\"><td>AS%" PRIu32 " ",
			f->asn, f->flows, f->asn);
		esc(o, f->org);
		fputs("</td><td>", o);
		esc(o, f->label);
		fprintf(o, "</td><td>%s</td><td class=\"n\">%" PRIu64 "</td><td>", f->match, f->flows);
		for (unsigned k = 0; k < f->n_names; k++) {
			esc(o, f->names[k]);
			fputs(k + 1 < f->n_names ? ", " : "", o);
		}
		if (f->names_dropped)
			fprintf(o, " and %" PRIu64 " more", f->names_dropped);
		fputs("</td><td><ol class=\"chain\" start=\"0\">", o);
		for (unsigned k = 0; k < f->n_chain; k++) {
			fputs(k == f->match_cert ? "<li><b>" : "<li>", o);
			esc(o, f->subject[k]);
			fputs(" ← ", o);
			esc(o, f->issuer[k]);
			fputs(k == f->match_cert ? "</b> (known interception CA)</li>" : "</li>", o);
		}
		fputs("</ol></td></tr>\n", o);
	}
	fputs("</table>\n", o);
}

static void consistency_row(void *arg, const struct certstats_finding *f)
{
	FILE *o = arg;
	char sni[300];
	if (!f->inconsistent)
		return;
	snprintf(sni, sizeof(sni), "%.*s", (int)(f->sni_len < 255 ? f->sni_len : 255), f->sni);
	fprintf(o, "<tr><td>AS%" PRIu32 "</td><td>", f->asn);
	esc(o, sni);
	fputs("</td><td>", o);
	esc(o, f->issuer_here ? f->issuer_here : "–");
	fputs("</td><td>", o);
	esc(o, f->issuer_elsewhere ? f->issuer_elsewhere : "–");
	fprintf(o, "</td><td class=\"n\">%" PRIu32 "</td><td class=\"n\">%.2f</td></tr>\n",
		f->flows_inconsistent, f->confidence);
}

static void count_inconsistent(void *arg, const struct certstats_finding *f)
{
	*(uint64_t *)arg += f->inconsistent;
}

static void interception(FILE *o, const struct report *r, const struct out_html_extra *x)
{
	size_t n;
	uint64_t mitm = 0;
	struct report_net *const *nets = report_nets(r, &n);
	for (size_t i = 0; i < n; i++)
		mitm += nets[i]->c.n[V_TLS_MITM];
	fputs("<h2 id=\"interception\">Interception certificates</h2>\n", o);
	if (!mitm) {
		fputs("<p>No flow was shown a forged certificate.</p>\n", o);
		return;
	}
	fprintf(o, "<p>%" PRIu64 " flows were shown a forged certificate (tls_mitm).</p>\n", mitm);
	if (x && x->icpt && x->icpt->n)
		icpt_table(o, x->icpt);
	else if (!x || !x->icpt)
		fputs("<p class=\"note\">The chains are not part of the JSON reports a merge reads: "
		      "each sensor's own page and events show them.</p>\n", o);
	uint64_t inconsistent = 0;
	if (x && x->cs)
		certstats_foreach(x->cs, true, count_inconsistent, &inconsistent);
	if (inconsistent) {
		fputs("<h3>Chains that fail only on some networks</h3>\n<table><tr><th>network</th>"
		      "<th>domain</th><th>issuer here</th><th>issuer where it validates</th>"
		      "<th class=\"n\">flows</th><th class=\"n\">confidence</th></tr>\n", o);
		certstats_foreach(x->cs, true, consistency_row, o);
		fputs("</table>\n", o);
	}
}

/* ---- the page --------------------------------------------------------------------- */

static void glossary(FILE *o)
{
	fputs("<h2 id=\"reading\">Reading this report</h2>\n<p class=\"note\">Verdicts are decided "
	      "per flow from the packets alone, on packet time: <b>tls_stall</b> a ClientHello "
	      "met silence, <b>tls_reset</b> a RST ended the handshake before the ServerHello, "
	      "<b>syn_timeout</b> / <b>syn_reset</b> the connection was refused at its SYN, "
	      "<b>tls_mitm</b> the certificate chain was forged. <b>incomplete</b>, "
	      "<b>client_abort</b> and <b>not_tls</b> never count as interference. The same "
	      "numbers are in the JSON report (--report-json); tamperscope(1) documents every "
	      "field.</p>\n", o);
}

static void page(FILE *o, const struct report *r, const struct out_html_extra *x)
{
	fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<meta name=\"generator\" content=\"tamperscope %s\">\n"
		"<title>Network interference report</title>\n<style>%s</style></head>\n<body><main>\n",
		PACKAGE_VERSION, STYLE);
	header(o, r, x);
	findings(o, r);
	net_table(o, r);
	mix_chart(o, r);
	blocked_section(o, r);
	timeline(o, r);
	interception(o, r, x);
	glossary(o);
	fprintf(o, "<footer><p class=\"note\">Written by tamperscope %s. This page is one file "
		"with no scripts, fonts or images from elsewhere.</p></footer>\n</main></body></html>\n",
		PACKAGE_VERSION);
}

int out_html_write(const struct report *r, const struct out_html_extra *x, const char *path,
		   char *err, size_t errlen)
{
	FILE *o = fopen(path, "w");
	if (!o) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	page(o, r, x);
	int bad = ferror(o);
	bad |= fclose(o) != 0;
	if (bad) {
		snprintf(err, errlen, "%s: write error: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* summary.c - per server name verdict counts and their text table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "record.h"
#include "summary.h"
#include "tls.h"

/* Slots at start; the table may double up to twice the name cap, so it is
 * never more than half full. */
#define SUMMARY_TABLE_INITIAL 1024

struct summary_row {
	char *name;                 /* after the row, in its allocation */
	uint64_t total;
	uint64_t n[V__COUNT];
};

struct summary {
	FILE *out;                  /* where the table is printed */
	struct hseed seed;
	struct htab rows;           /* struct summary_row, keyed by name */
	struct summary_row other;   /* names past SUMMARY_MAX_NAMES, or refused */
	uint64_t totals[V__COUNT];
};

static struct summary *summary_new(const struct hseed *seed)
{
	struct summary *s = calloc(1, sizeof(*s));
	if (!s || htab_init(&s->rows, SUMMARY_TABLE_INITIAL, 2 * SUMMARY_MAX_NAMES) < 0) {
		free(s);
		return NULL;
	}
	hseed_or_draw(&s->seed, seed);
	s->other.name = (char *)"(other)";
	return s;
}

static void summary_free(void *ctx)
{
	struct summary *s = ctx;
	if (!s)
		return;
	htab_free_all(&s->rows, free);
	free(s);
}

static bool row_eq(const void *entry, const void *key)
{
	return strcmp(((const struct summary_row *)entry)->name, key) == 0;
}

/* The row of a name, made on first sight.  Past the cap, or when the table
 * refuses it, a new name counts under "(other)": the flow is still in the
 * totals and the table stays bounded. */
static struct summary_row *row_for(struct summary *s, const char *key)
{
	size_t len = strlen(key);
	uint64_t h = hseed_hash(&s->seed, key, len);
	struct summary_row *r = htab_find(&s->rows, h, row_eq, key);
	if (r)
		return r;
	if (s->rows.used >= SUMMARY_MAX_NAMES)
		return &s->other;
	r = calloc(1, sizeof(*r) + len + 1);
	if (!r)
		return &s->other;
	r->name = (char *)(r + 1);
	memcpy(r->name, key, len + 1);
	if (htab_insert(&s->rows, h, r) < 0) {
		free(r);
		return &s->other;
	}
	return r;
}

static void summary_add(void *ctx, const struct flow_record *rec)
{
	struct summary *s = ctx;
	char key[TLS_MAX_SNI + 64];
	record_server_name(rec, key, sizeof(key));
	struct summary_row *r = row_for(s, key);
	r->n[rec->vr.verdict]++;
	r->total++;
	s->totals[rec->vr.verdict]++;
}

static int row_cmp(const void *a, const void *b)
{
	const struct summary_row *x = *(const struct summary_row *const *)a;
	const struct summary_row *y = *(const struct summary_row *const *)b;
	uint64_t ix = 0, iy = 0;
	for (int v = 0; v < V__COUNT; v++) {
		if (verdict_is_interference((enum verdict)v)) {
			ix += x->n[v];
			iy += y->n[v];
		}
	}
	if (ix != iy)
		return ix > iy ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void summary_print(const struct summary *s, FILE *out)
{
	struct summary_row **list = calloc((size_t)s->rows.used + 1, sizeof(*list));
	if (!list)
		return;
	uint32_t n = 0;
	size_t width = strlen("server name");
	struct summary_row *r;
	for (uint32_t i = 0; (r = htab_next(&s->rows, &i));) {
		list[n++] = r;
		size_t l = strlen(r->name);
		if (l > width)
			width = l;
	}
	if (s->other.total)
		list[n++] = (struct summary_row *)&s->other;
	if (width > 60)
		width = 60;
	qsort(list, n, sizeof(*list), row_cmp);

	fprintf(out, "\nVerdicts per server name (flows without a name: server address)\n");
	fprintf(out, "%-*s %7s", (int)width, "server name", "flows");
	for (int v = 0; v < V__COUNT; v++)
		if (s->totals[v])
			fprintf(out, " %*s", (int)(strlen(verdict_name((enum verdict)v)) > 5 ?
						   strlen(verdict_name((enum verdict)v)) : 5),
				verdict_name((enum verdict)v));
	fputc('\n', out);
	for (uint32_t i = 0; i < n; i++) {
		fprintf(out, "%-*.*s %7llu", (int)width, (int)width, list[i]->name,
			(unsigned long long)list[i]->total);
		for (int v = 0; v < V__COUNT; v++) {
			if (!s->totals[v])
				continue;
			size_t w = strlen(verdict_name((enum verdict)v));
			fprintf(out, " %*llu", (int)(w > 5 ? w : 5),
				(unsigned long long)list[i]->n[v]);
		}
		fputc('\n', out);
	}
	free(list);
}

/* ---- the sink -------------------------------------------------------------- */

static void on_report(void *ctx)
{
	struct summary *s = ctx;
	summary_print(s, s->out);
}

/* No finish hook: at the end of the run the table is printed as on SIGUSR1. */
static const struct sink_ops summary_ops = {
	.name = "summary",
	.flow = summary_add,
	.report = on_report,
	.free = summary_free,
};

struct sink summary_sink(FILE *out, const struct hseed *seed)
{
	struct summary *s = summary_new(seed);
	if (s)
		s->out = out;
	return (struct sink){ &summary_ops, s };
}

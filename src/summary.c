/* summary.c - per server name verdict counts and their text table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "summary.h"
#include "tls.h"

struct summary_row {
	char *name;
	uint64_t total;
	uint64_t n[V__COUNT];
};

struct summary {
	FILE *out;                  /* where the table is printed */
	struct summary_row *rows;   /* open addressing, power-of-two size */
	uint32_t cap, used;
	struct summary_row other;   /* names past SUMMARY_MAX_NAMES */
	uint64_t totals[V__COUNT];
};

static struct summary *summary_new(void)
{
	struct summary *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = 1024;
	s->rows = calloc(s->cap, sizeof(*s->rows));
	if (!s->rows) {
		free(s);
		return NULL;
	}
	s->other.name = (char *)"(other)";
	return s;
}

static void summary_free(void *ctx)
{
	struct summary *s = ctx;
	if (!s)
		return;
	for (uint32_t i = 0; i < s->cap; i++)
		free(s->rows[i].name);
	free(s->rows);
	free(s);
}

static uint32_t name_hash(const char *k)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *k; k++)
		h = (h ^ (uint8_t)*k) * 16777619u;
	return h;
}

static int grow(struct summary *s)
{
	uint32_t ncap = s->cap * 2;
	struct summary_row *nr = calloc(ncap, sizeof(*nr));
	if (!nr)
		return -1;
	for (uint32_t i = 0; i < s->cap; i++) {
		if (!s->rows[i].name)
			continue;
		uint32_t j = name_hash(s->rows[i].name) & (ncap - 1);
		while (nr[j].name)
			j = (j + 1) & (ncap - 1);
		nr[j] = s->rows[i];
	}
	free(s->rows);
	s->rows = nr;
	s->cap = ncap;
	return 0;
}

static struct summary_row *row_for(struct summary *s, const char *key)
{
	uint32_t i = name_hash(key) & (s->cap - 1);
	while (s->rows[i].name) {
		if (strcmp(s->rows[i].name, key) == 0)
			return &s->rows[i];
		i = (i + 1) & (s->cap - 1);
	}
	if (s->used >= SUMMARY_MAX_NAMES)
		return &s->other;
	if ((s->used + 1) * 2 > s->cap) {
		if (grow(s) < 0)
			return &s->other;
		return row_for(s, key);
	}
	s->rows[i].name = strdup(key);
	if (!s->rows[i].name)
		return &s->other;
	s->used++;
	return &s->rows[i];
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
	struct summary_row **list = calloc(s->used + 1, sizeof(*list));
	if (!list)
		return;
	uint32_t n = 0;
	size_t width = strlen("server name");
	for (uint32_t i = 0; i < s->cap; i++) {
		if (s->rows[i].name) {
			list[n++] = &s->rows[i];
			size_t l = strlen(s->rows[i].name);
			if (l > width)
				width = l;
		}
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

static int on_finish(void *ctx, const struct run_end *end)
{
	(void)end;
	on_report(ctx);
	return 0;
}

static const struct sink_ops summary_ops = {
	.name = "summary",
	.flow = summary_add,
	.report = on_report,
	.finish = on_finish,
	.free = summary_free,
};

struct sink summary_sink(FILE *out)
{
	struct summary *s = summary_new();
	if (s)
		s->out = out;
	return (struct sink){ &summary_ops, s };
}

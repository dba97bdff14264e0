/* fuzz_report_json.c - libFuzzer harness for the strict JSON reader
 * (src/jsonread.c) and the report loader of `tamperscope merge`
 * (src/report_merge.c).  The input is parsed and its tree walked; then
 * merged twice into one report (a report merged with itself), finalised
 * and written out in all three formats.  Invariants checked with a trap:
 * the tree is consistent (counts, string lengths), and a report that was
 * accepted round-trips: writing it, reading that back and writing again
 * gives the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "jsonread.h"
#include "out_report.h"
#include "report.h"
#include "report_merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

/* Walk every value: child counts match, strings have no NUL inside. */
static void walk(const struct jr_doc *d, jr_ref v, unsigned depth)
{
	check(depth <= JR_MAX_DEPTH + 1);
	enum jr_type t = jr_type(d, v);
	const char *s;
	size_t len;
	uint64_t u;
	bool b;
	if (t == JR_STRING) {
		check(jr_str(d, v, &s, &len) == 0 && strlen(s) == len);
	} else if (t == JR_NUMBER) {
		(void)jr_u64(d, v, &u);
	} else if (t == JR_TRUE || t == JR_FALSE) {
		check(jr_bool(d, v, &b) == 0 && b == (t == JR_TRUE));
	} else if (t == JR_ARRAY || t == JR_OBJECT) {
		size_t n = 0;
		for (jr_ref c = jr_first(d, v); c != JR_NONE; c = jr_next(d, c)) {
			if (t == JR_OBJECT)
				check(jr_key(d, c) != NULL);
			walk(d, c, depth + 1);
			n++;
		}
		check(n == jr_count(d, v));
	}
}

static char *render(struct report *r)
{
	struct json j;
	json_init(&j);
	out_report_json(r, &j);
	check(!j.oom);
	char *s = strdup(j.buf ? j.buf : "");
	json_free(&j);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct jr_doc *d = jr_parse((const char *)data, size, err, sizeof(err));
	if (d) {
		walk(d, jr_root(d), 0);
		jr_free(d);
	}

	struct report_cfg cfg;
	report_cfg_default(&cfg);
	cfg.max_bytes = 16u << 20;
	/* A fixed seed, so a saved input replays the same probe sequences. */
	static const struct hseed seed = { { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull } };
	cfg.seed = &seed;
	struct report *r = NULL;
	if (report_merge_text(&r, &cfg, (const char *)data, size, err, sizeof(err)) == 0 &&
	    report_merge_text(&r, &cfg, (const char *)data, size, err, sizeof(err)) == 0 &&
	    report_finalize(r) == 0 && report_stats(r)->refused_name == 0 &&
	    report_stats(r)->refused_pair == 0 && report_stats(r)->refused_net == 0 &&
	    report_stats(r)->refused_bucket == 0) {
		char *j1 = render(r);
		struct report *r2 = NULL;
		check(report_merge_text(&r2, &cfg, j1, strlen(j1), err, sizeof(err)) == 0);
		check(report_finalize(r2) == 0);
		char *j2 = render(r2);
		check(strcmp(j1, j2) == 0);
		FILE *null = fopen("/dev/null", "w");
		if (null) {
			out_report_text(r2, null);
			out_report_csv(r2, null);
			fclose(null);
		}
		free(j1);
		free(j2);
		report_free(r2);
	}
	report_free(r);
	return 0;
}

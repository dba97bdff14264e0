/* report_impl.h - the report's private state, shared by its storage
 * (report.c) and its conclusions (report_conclude.c); nothing else
 * includes it. */
#ifndef TS_REPORT_IMPL_H
#define TS_REPORT_IMPL_H

#include <stddef.h>

#include "htab.h"
#include "report.h"

struct report {
	struct report_cfg cfg;         /* cfg.seed points at seed */
	struct hseed seed;
	struct htab nets, names, pairs;
	struct htab reach;             /* answered endpoints not yet a name: "addr:port" -> flows */
	struct report_category cats[REPORT_MAX_CATEGORIES];
	size_t n_cats;
	struct report_stats st;
	/* report_finalize */
	struct report_net **net_list;
	struct report_name **name_list;
	struct report_pair **pair_list;
	size_t n_net_list, n_name_list, n_pair_list;
};

/* The category with this code, NULL when there is none. */
struct report_category *report_cat_find(struct report *r, const char *code);

#endif

/* out_stats.h - periodic statistics: a "stats" event in the events stream
 * and a Prometheus textfile for node_exporter's textfile collector. */
#ifndef TS_OUT_STATS_H
#define TS_OUT_STATS_H

#include <stdint.h>

#include "verdict.h"

struct engine;
struct out_event;
struct capture_kstats;

/* Names kept for the interval's "top blocked" list: a cap, counted. */
#define STATS_MAX_NAMES 4096
#define STATS_TOP 10

struct out_stats;

/* metrics_path may be NULL (no textfile). */
struct out_stats *out_stats_new(const char *metrics_path);
void out_stats_free(struct out_stats *s);

/* A blocked flow ended (or was reported early) in this interval. */
void out_stats_note_blocked(struct out_stats *s, const char *name);

/* Write the interval's stats event (if ev) and the metrics file, then start
 * a new interval.  Returns -1 if the metrics file could not be written. */
int out_stats_emit(struct out_stats *s, const struct engine *e, uint64_t now_us,
		   const struct capture_kstats *ks, struct out_event *ev);

unsigned long long out_stats_names_dropped(const struct out_stats *s);

#endif

/* out_stats.h - run statistics: a "stats" event in the events stream and
 * a Prometheus textfile (node_exporter's textfile collector) every
 * interval, and the counters block on stderr at the end of a run. */
#ifndef TS_OUT_STATS_H
#define TS_OUT_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "counters.h"
#include "sink.h"

struct out_event;
struct cert_stats;
struct certstats_stats;

/* Names kept for the interval's "top blocked" list: a cap, counted. */
#define STATS_MAX_NAMES 4096
#define STATS_TOP 10

/* The statistics sink: counts blocked flows per name during an interval;
 * at its end writes the stats event to `events` (may be NULL: none) and
 * the textfile at metrics_path (may be NULL: none).  `events` is
 * borrowed: add this sink after the events sink. */
struct sink out_stats_sink(const char *metrics_path, struct out_event *events);

/* The closing counters block ("tamperscope: ..." lines); cs / cst NULL
 * when certificates were not analysed. */
void out_stats_print_end(FILE *out, const struct engine_counters *c,
			 const struct cert_stats *cs, const struct certstats_stats *cst);

/* One line per thread of --threads (engine_thread_times): its CPU time
 * and how long it waited for the others (wall time; a wait spins briefly
 * before it sleeps, so its first microseconds are CPU time as well). */
struct thread_time;
void out_stats_print_threads(FILE *out, const struct thread_time *tt, unsigned n);

#endif

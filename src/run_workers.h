/* run_workers.h - live capture with worker threads (--threads with -i on
 * an Ethernet interface): one fanout socket (fanout.h) and one engine per
 * worker, no reading thread.  The first engine is main's (made with
 * engine_deps.share = live_workers_share), the others its peers; the run
 * loop (run.h) services the outputs from the main thread meanwhile.
 *   live_workers_new     n workers' places and the lock (NULL: out of memory)
 *   live_workers_open    their sockets on the interface, before -Z drops
 *                        privileges; 0, or -1 with err set
 *   run_live_workers     as run_live, with the workers; 0, or 1 after a
 *                        socket failed (err set)
 *   live_workers_free    the sockets and the peers' engines (NULL: nothing) */
#ifndef TS_RUN_WORKERS_H
#define TS_RUN_WORKERS_H

#include <pthread.h>

#include "run.h"

struct live_workers;

struct live_workers *live_workers_new(unsigned n);
pthread_mutex_t *live_workers_share(struct live_workers *lw);
int live_workers_open(struct live_workers *lw, const struct live_opts *o, const char *bpf,
		      char *err, size_t errlen);
int run_live_workers(struct run *r, struct live_workers *lw, const struct engine_cfg *cfg,
		     const struct engine_deps *deps, char *err, size_t errlen);
void live_workers_free(struct live_workers *lw);

#endif

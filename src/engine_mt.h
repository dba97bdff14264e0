/* engine_mt.h - the engine with worker threads (--threads; engine_mt.c).
 *
 * An engine made by engine_new runs every stage in its caller's thread.
 * engine_mt_start gives it cfg.threads - 1 more: the flows' packets go to
 * workers (workers.h) and what happens at a flow's end is carried out in
 * the order it happened, so the outputs are byte for byte one thread's. */
#ifndef TS_ENGINE_MT_H
#define TS_ENGINE_MT_H

#include "engine.h"

/* Before the first frame, on an engine with cfg.threads > 1.  0, or -1
 * when the threads could not start (engine_free still frees e). */
int engine_mt_start(struct engine *e, const struct engine_deps *deps);

#endif

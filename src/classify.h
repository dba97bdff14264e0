/* classify.h - application protocol of each flow, by nDPI 4.2.
 *
 * Classification only: nDPI drops out-of-order TCP segments and sees only
 * the leaf certificate, so SNI and certificates come from tls.c.  A flow is
 * fed to nDPI until it decides (or after a bounded number of packets gives
 * up), then its 688-byte nDPI state is freed.
 */
#ifndef TS_CLASSIFY_H
#define TS_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "decode.h"
#include "flow.h"

/* Packets fed per flow before asking nDPI to give up: enough for a TLS
 * ClientHello split over several segments, bounded so a never-decided flow
 * costs nothing after that. */
#define CLASSIFY_MAX_PACKETS 24

struct classify_stats {
	unsigned long long flows_fed;
	unsigned long long decided;
	unsigned long long gave_up;
	unsigned long long alloc_failed;
};

struct classify;

struct classify *classify_new(void);
void classify_free(struct classify *c);

/* The process exits once the classifiers are freed (the workers' as the
 * run ends, the engine's after it): from now on classify_free leaves nDPI's
 * module for the kernel to take back with the rest of the address space.
 * Freeing its tries node by node costs ~21 M instructions a module, a tenth
 * of what a 400 k-packet bulk run spends on its own work.  The module stays
 * reachable (a static table), so leak checkers do not count it as lost. */
void classify_exiting(void);
const struct classify_stats *classify_stats(const struct classify *c);

/* Feed one packet of f (no-op once f->app_final).  Returns true when the
 * flow's protocol became final with this packet. */
bool classify_packet(struct classify *c, struct flow *f, const struct ts_packet *p);

/* A QUIC flow whose ClientHello the QUIC stage read: QUIC, and the
 * application of its SNI from nDPI's host table - what nDPI's own QUIC
 * dissector concludes after decrypting the same Initial a second time. */
void classify_quic(struct classify *c, struct flow *f, const char *sni, size_t len);

/* A TCP flow whose ClientHello the TLS parser completed, with an SNI: TLS,
 * and the application of the SNI from nDPI's host table, else of the
 * server's address (nDPI's guess from its first packet) - what nDPI's TLS
 * dissector concludes from the same ClientHello, without its JA3 strings
 * and the rest of its per-hello work.  False (nothing done) when nDPI has
 * not seen the flow's first packets or there is no SNI: feed nDPI then. */
bool classify_tls(struct classify *c, struct flow *f, const char *sni, size_t len);

/* Flow ends undecided: take nDPI's best guess, then release its state. */
void classify_finish(struct classify *c, struct flow *f);

/* Name of a flow's protocol: the master protocol ("TLS") when there is one,
 * else the application ("DNS"), "unknown" if neither. */
const char *classify_name(const struct classify *c, const struct flow *f);
/* nDPI's full name, e.g. "TLS.Google", as nDPI writes it into buf (at
 * most len - 1 bytes and a NUL); remembered per protocol pair. */
const char *classify_detail(struct classify *c, const struct flow *f, char *buf, size_t len);

#endif

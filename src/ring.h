/* ring.h - single-producer, single-consumer rings between two threads.
 *
 * A byte ring carries variable-sized messages: the producer reserves room
 * for one, writes it and commits; the consumer peeks at the oldest, reads
 * it and releases it.  Messages are 8-byte aligned and never wrap: one that
 * does not fit before the end of the buffer is preceded by a filler to the
 * end.  The two positions are the only shared words, each written by one
 * side (C11 release/acquire), each on its own cache line; each side keeps a
 * cached copy of the other's position and reloads it only when the ring
 * looks full (or empty) - the classic Lamport ring with cached indexes.
 *
 * A pointer ring is the same with fixed 8-byte slots.  Neither blocks:
 * a full or empty ring is reported, and the caller decides how to wait
 * (ring_pause backs off from spinning to yielding the CPU).
 */
#ifndef TS_RING_H
#define TS_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_LINE 64

struct ring {
	_Alignas(RING_LINE) _Atomic uint64_t head; /* bytes published (producer) */
	uint64_t tail_cache;                       /* producer's copy of tail */
	uint64_t head_local;                       /* bytes committed, not all published yet */
	uint32_t pending, batch;                   /* commits not published; publish every batch */
	_Atomic uint32_t prod_sleep;               /* the producer waits for room (futex word) */
	_Alignas(RING_LINE) _Atomic uint64_t tail; /* bytes released (consumer) */
	uint64_t head_cache;                       /* consumer's copy of head */
	_Atomic uint32_t cons_sleep;               /* the consumer waits for a message (futex word) */
	_Alignas(RING_LINE) uint8_t *buf;
	uint64_t cap;                              /* a power of two */
};

/* cap: at least the largest message + 16, rounded up to a power of two.
 * -1 when out of memory. */
int ring_init(struct ring *r, size_t cap);
void ring_free(struct ring *r);

/* Producer: room for len bytes, or NULL when the ring is full for now. */
void *ring_reserve(struct ring *r, size_t len);
/* Producer: the message reserved last is complete; every `batch` commits
 * (1 unless set) they are published and a sleeping consumer is woken. */
void ring_commit(struct ring *r, size_t len);
/* Producer: publish what is committed now.  A producer that batches must
 * publish before it waits for anything: the consumer may be what it waits
 * for. */
void ring_publish(struct ring *r);
/* Producer: publish every n commits (waking the consumer costs a system
 * call when it sleeps: fewer, larger steps). */
void ring_set_batch(struct ring *r, uint32_t n);

/* Producer: the position after the last message committed (monotonic). */
static inline uint64_t ring_committed(const struct ring *r)
{
	return r->head_local;
}
/* Producer: has the consumer released every message up to pos (a value of
 * ring_committed)?  True also orders what the consumer did with them
 * before what the caller does next (acquire). */
bool ring_consumed(struct ring *r, uint64_t pos);

/* Consumer: the oldest message and its length, or NULL when empty. */
const void *ring_peek(struct ring *r, size_t *len);
/* Consumer: done with the message peek returned. */
void ring_release(struct ring *r, size_t len);

/* Pointers through a byte ring: a pool of spare buffers one thread hands
 * back to another.  put: false when full (keep or free p); get: NULL when
 * empty. */
bool ring_put_ptr(struct ring *r, void *p);
void *ring_get_ptr(struct ring *r);

/* Waiting for the other side, the n-th time in a row: spin briefly, then
 * yield, then sleep a little, so a waiting thread neither burns a core the
 * other side needs nor adds latency when the wait is short. */
void ring_pause(unsigned n);

/* Block until the ring holds a message (consumer) or has room for len
 * bytes (producer, which publishes first): a few spins, then a futex sleep
 * that the other side's publish or release ends (and a 2 ms timeout, as a
 * bound). */
void ring_wait_data(struct ring *r);
void ring_wait_room(struct ring *r, size_t len);

#endif

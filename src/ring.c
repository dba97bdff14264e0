/* ring.c - single-producer, single-consumer byte rings (ring.h). */
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

/* Each message starts with its length; a length of RING_FILL marks the
 * rest of the buffer as unused (the next message starts at 0). */
#define RING_HDR 8u
#define RING_FILL UINT32_MAX

static size_t align8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

int ring_init(struct ring *r, size_t cap)
{
	size_t c = 64;
	memset(r, 0, sizeof(*r));
	while (c < cap)
		c <<= 1;
	r->buf = aligned_alloc(RING_LINE, c);
	if (!r->buf)
		return -1;
	r->cap = c;
	r->batch = 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
}

void ring_free(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Room from head for need bytes, counting a filler to the end when the
 * message would not fit before it. */
static bool room(struct ring *r, uint64_t head, size_t need)
{
	uint64_t off = head & (r->cap - 1), skip = off + need > r->cap ? r->cap - off : 0;
	if (head + skip + need - r->tail_cache <= r->cap)
		return true;
	r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
	return head + skip + need - r->tail_cache <= r->cap;
}

void *ring_reserve(struct ring *r, size_t len)
{
	uint64_t head = r->head_local;
	size_t need = RING_HDR + align8(len);
	if (need > r->cap || !room(r, head, need))
		return NULL;
	uint64_t off = head & (r->cap - 1);
	if (off + need > r->cap) {
		/* filler to the end, published with the message */
		*(uint32_t *)(r->buf + off) = RING_FILL;
		r->head_local = head + (r->cap - off);
		off = 0;
	}
	*(uint32_t *)(r->buf + off) = (uint32_t)len;
	return r->buf + off + RING_HDR;
}

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void futex_sleep(_Atomic uint32_t *w)
{
	struct timespec ts = { 0, 2000000 }; /* 2 ms: a missed wake-up costs no more */
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0);
}

/* The side that just moved its position wakes the other if it sleeps.  The
 * fence orders the position's store before the flag's load; the sleeper
 * orders its flag's store before its position's load: one of the two sees
 * the other (Dekker). */
static void wake(_Atomic uint32_t *sleep)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(sleep, memory_order_relaxed) &&
	    atomic_exchange_explicit(sleep, 0, memory_order_relaxed))
		futex_wake(sleep);
}

void ring_publish(struct ring *r)
{
	if (atomic_load_explicit(&r->head, memory_order_relaxed) == r->head_local)
		return;
	r->pending = 0;
	atomic_store_explicit(&r->head, r->head_local, memory_order_release);
	wake(&r->cons_sleep);
}

void ring_commit(struct ring *r, size_t len)
{
	r->head_local += RING_HDR + align8(len);
	if (++r->pending >= r->batch)
		ring_publish(r);
}

bool ring_consumed(struct ring *r, uint64_t pos)
{
	if (r->tail_cache >= pos)
		return true;
	r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
	return r->tail_cache >= pos;
}

void ring_set_batch(struct ring *r, uint32_t n)
{
	r->batch = n ? n : 1;
}

const void *ring_peek(struct ring *r, size_t *len)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (;;) {
		if (tail == r->head_cache) {
			r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
			if (tail == r->head_cache)
				return NULL;
		}
		uint64_t off = tail & (r->cap - 1);
		uint32_t n = *(const uint32_t *)(r->buf + off);
		if (n != RING_FILL) {
			*len = n;
			return r->buf + off + RING_HDR;
		}
		tail += r->cap - off;
		atomic_store_explicit(&r->tail, tail, memory_order_release);
	}
}

void ring_release(struct ring *r, size_t len)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	atomic_store_explicit(&r->tail, tail + RING_HDR + align8(len), memory_order_release);
	wake(&r->prod_sleep);
}

#define RING_SPINS 2000 /* about 50 us of pause: longer than a producer takes to fill a step */

void ring_wait_data(struct ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (unsigned n = 0; n < RING_SPINS; n++) {
		if (atomic_load_explicit(&r->head, memory_order_acquire) != tail)
			return;
		ring_pause(0);
	}
	atomic_store_explicit(&r->cons_sleep, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->head, memory_order_acquire) == tail)
		futex_sleep(&r->cons_sleep);
	atomic_store_explicit(&r->cons_sleep, 0, memory_order_relaxed);
}

void ring_wait_room(struct ring *r, size_t len)
{
	uint64_t head = r->head_local;
	size_t need = RING_HDR + align8(len);
	ring_publish(r);
	for (unsigned n = 0; n < RING_SPINS; n++) {
		if (room(r, head, need))
			return;
		ring_pause(0);
	}
	atomic_store_explicit(&r->prod_sleep, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (!room(r, head, need))
		futex_sleep(&r->prod_sleep);
	atomic_store_explicit(&r->prod_sleep, 0, memory_order_relaxed);
}

void ring_pause(unsigned n)
{
	if (n < 64) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		return;
	}
	if (n < 256) {
		sched_yield();
		return;
	}
	struct timespec ts = { 0, 50000 }; /* 50 us */
	nanosleep(&ts, NULL);
}

bool ring_put_ptr(struct ring *r, void *p)
{
	void *slot = ring_reserve(r, sizeof(p));
	if (!slot)
		return false;
	memcpy(slot, &p, sizeof(p));
	ring_commit(r, sizeof(p));
	return true;
}

void *ring_get_ptr(struct ring *r)
{
	size_t len;
	void *p;
	const void *slot = ring_peek(r, &len);
	if (!slot)
		return NULL;
	memcpy(&p, slot, sizeof(p));
	ring_release(r, len);
	return p;
}

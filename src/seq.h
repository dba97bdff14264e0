/* seq.h - TCP sequence-number comparisons that survive wrap-around
 * (RFC 793 section 3.3; RFC 1982 serial number arithmetic).
 * Compare sequence numbers only through these. */
#ifndef TS_SEQ_H
#define TS_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
/* Distance from a to b (b - a) when b is at or after a. */
static inline uint32_t seq_diff(uint32_t a, uint32_t b) { return b - a; }

#endif

/* decode.h - link, network and transport decoding into a flat packet view.
 *
 * The decoder turns one captured frame into a struct ts_packet: addresses,
 * ports, TCP header fields and a pointer to the payload.  It never allocates
 * except through the IPv4 defragmenter it is handed, never reads outside the
 * frame, and reports why a frame was not decoded as one counted reason.
 */
#ifndef TS_DECODE_H
#define TS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

const char *decode_result_name(enum decode_result r);
bool decode_result_is_truncation(enum decode_result r);

/* Link types we decode (values of pcap's DLT_ / LINKTYPE_). */
bool decode_linktype_supported(int dlt);

struct defrag; /* defrag.h */

/* Decode one frame of link type `dlt`.  On DEC_OK `pkt` is filled; its
 * pointers point into `frame` or, for a reassembled datagram, into storage
 * owned by `df` that stays valid until the next call with the same `df`.
 * `df` may be NULL: fragments are then reported as DEC_SKIP_PROTO. */
enum decode_result decode_frame(int dlt, const uint8_t *frame, uint32_t caplen,
				uint32_t wirelen, uint64_t ts_us,
				struct defrag *df, struct ts_packet *pkt);

/* Format an address for output (inet_ntop style).  buf must hold 46 bytes. */
const char *ts_addr_str(const struct ts_addr *a, char *buf, size_t len);

#endif

/* pcapw.h - a capture file writer for evidence (-w): pcapng (the default:
 * per-packet comments, one interface per link type) or classic pcap.
 *
 * Blocks are gathered in a batch and written with write(2); the file only
 * ever ends at a block boundary.  When a write fails (disk full, I/O
 * error) the file is cut back to the end of the last batch written whole,
 * so it stays a valid, shorter capture, and nothing more is written: the
 * caller says so.  Formats: the pcapng draft (IETF opsawg-pcapng, sections
 * 4.1 SHB, 4.2 IDB, 4.3 EPB, 3.5 options) and libpcap's classic format
 * with microsecond timestamps.
 */
#ifndef TS_PCAPW_H
#define TS_PCAPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pcapw_format { PCAPW_PCAPNG = 0, PCAPW_PCAP };

#define PCAPW_SNAPLEN 262144
#define PCAPW_MAX_IFACES 16      /* link types in one pcapng file; more are not written (counted) */
#define PCAPW_COMMENT_MAX 1024   /* longer comments are cut */

struct pcapw_stats {
	uint64_t packets;            /* written, in batches that reached the file whole */
	uint64_t bytes;              /* file size after the last whole batch */
	uint64_t skipped_linktype;   /* not written: a pcap file has one link type (or too many
					interfaces) */
	bool failed;                 /* a write failed: the file was cut back, nothing more written */
	int failed_errno;
};

struct pcapw;

/* Create (truncate) path.  appl names the writer in the pcapng section
 * header; comments_path, for classic pcap (which has no comments), is a
 * side file of "packet number<TAB>comment" lines (NULL: none).  NULL with
 * a one-line reason in err. */
struct pcapw *pcapw_open(const char *path, enum pcapw_format fmt, const char *appl,
			 const char *comments_path, char *err, size_t errlen);

/* One packet (caplen may be 0: a packet whose bytes are not kept).
 * comment may be NULL.  0 written (or batched), 1 skipped (counted), -1
 * after a failed write. */
int pcapw_packet(struct pcapw *w, int dlt, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
		 uint32_t wirelen, const char *comment);

/* Write the batch now (live readers, and before the manifest).  0 or -1. */
int pcapw_flush(struct pcapw *w);

/* Flush and close; the stats stay readable until pcapw_free.  0 or -1. */
int pcapw_close(struct pcapw *w);
void pcapw_free(struct pcapw *w);

const struct pcapw_stats *pcapw_get_stats(const struct pcapw *w);

#endif

/* util.h - small helpers shared by several stages: dates and time
 * formatting, hex, UTF-8 validation, capped buffer growth, names of enum
 * values. */
#ifndef TS_UTIL_H
#define TS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): no time_t range or time zone involved. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

/* Clocks in microseconds: the wall clock (CLOCK_REALTIME), the monotonic
 * one, and the CPU time the calling thread has used. */
uint64_t wall_now_us(void);
uint64_t mono_now_us(void);
uint64_t thread_cpu_us(void);

/* Suricata EVE timestamp, UTC: "2024-05-14T23:37:18.029308+0000".
 * buf must hold at least 32 bytes. */
const char *ts_format_time(uint64_t ts_us, char *buf, size_t len);

/* Seconds since the epoch as certificates carry them, UTC:
 * "2024-05-14T23:37:18Z", the text strftime("%Y-%m-%dT%H:%M:%SZ") writes
 * for gmtime_r(t).  NULL when gmtime_r cannot represent t or len is too
 * small; 21 bytes always do for years 1000 to 9999. */
const char *ts_format_utc_seconds(int64_t t, char *buf, size_t len);

/* "0x%04x" of v: "0x1301". */
const char *ts_hex16(uint16_t v, char buf[7]);

/* ASCII letters lower-cased, every other byte as it is: host names, DNS
 * labels and RFC 2253 names compare so (RFC 4343), whatever the locale
 * (tolower follows LC_CTYPE). */
static inline char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* n bytes of src into dst, ASCII-lower-cased (no terminator written). */
static inline void ascii_lower_n(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = ascii_lower(src[i]);
}

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* The value of one hex digit (either case), -1 for any other byte. */
int hex_digit(int c);

/* Length of the valid UTF-8 sequence (RFC 3629) that starts s, 1 to 4;
 * 0 when it is invalid (overlong, a surrogate, past U+10FFFF) or cut short
 * by the n bytes there are. */
size_t utf8_seq_len(const uint8_t *s, size_t n);

/* Make room for `need` bytes (need <= max) in the heap buffer *buf of
 * *cap bytes: the capacity doubles from `first`, so a buffer filled a
 * piece at a time is copied a logarithmic number of times, and never
 * exceeds `max`, the most one sender may make us hold.  The bytes added
 * are zeroed: the buffer never holds bytes nobody wrote.  false when out
 * of memory; the buffer is unchanged then. */
bool bytes_reserve(uint8_t **buf, uint32_t *cap, uint32_t need, uint32_t first, uint32_t max);

/* Parse a duration like "3", "3s", "500ms", "2m", "1h" into microseconds;
 * returns -1 on error. */
int parse_duration_us(const char *s, uint64_t *out);

/* Find one of the package's data files: $TAMPERSCOPE_DATADIR/NAME, then
 * data/NAME beside the build tree's src/ (running before `make install`),
 * then the installed package data directory.  0 with the path in out. */
int data_file_path(const char *name, char *out, size_t len);

/* An enum and its names written once, as a list macro LIST(X) of
 * X(IDENTIFIER, "name") entries: `enum e { LIST(ENUM_ID) E__COUNT };` and
 * `static const char *const names[] = { LIST(ENUM_NAME) };`. */
#define ENUM_ID(id, name) id,
#define ENUM_NAME(id, name) [id] = name,

/* names[v], or `fallback` when v is past the n names or has none: the
 * range check every x_name() lookup needs. */
const char *name_of(const char *const *names, size_t n, unsigned v, const char *fallback);

/* All of f, into a heap buffer NUL-terminated one byte past *len: the
 * loader of every input file (the interception list, the test list, a
 * report to merge, the trust store's PEM files).  A file of `limit` bytes
 * or more is not read whole: SLURP_TOO_BIG.  After SLURP_READ_ERROR errno
 * is that of the failed read.  *buf is set only on SLURP_OK. */
enum slurp_result { SLURP_OK, SLURP_TOO_BIG, SLURP_NO_MEMORY, SLURP_READ_ERROR };
enum slurp_result slurp_file(FILE *f, size_t limit, char **buf, size_t *len);

/* fp fully buffered through `size` bytes at *buf, allocated here when *buf
 * is NULL and kept there for the caller to free after fclose.  glibc's
 * setvbuf ignores the size when handed no buffer (it allocates st_blksize
 * bytes, 4 KiB for a file or /dev/null), so a large buffer has to be
 * given.  Out of memory leaves the stream's own buffer. */
void file_buffer(FILE *fp, char **buf, size_t size);

/* SIGHUP after a rotation moved path away: fp's file closed and a new one
 * opened at path to append to, returned, buffered through the same *buf
 * (file_buffer; the old stream is closed, so flushed, first).  A failure
 * keeps fp and says so on stderr (what: the output's name). */
FILE *reopen_append(FILE *fp, const char *path, char **buf, size_t size, const char *what);

#endif

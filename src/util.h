/* util.h - small helpers shared by several stages: time and hex formatting. */
#ifndef TS_UTIL_H
#define TS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Suricata EVE timestamp, UTC: "2024-05-14T23:37:18.029308+0000".
 * buf must hold at least 32 bytes. */
const char *ts_format_time(uint64_t ts_us, char *buf, size_t len);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Parse a duration like "3", "3s", "500ms", "2m", "1h" into microseconds;
 * returns -1 on error. */
int parse_duration_us(const char *s, uint64_t *out);

/* Find one of the package's data files: $TAMPERSCOPE_DATADIR/NAME, then
 * data/NAME beside the build tree's src/ (running before `make install`),
 * then the installed package data directory.  0 with the path in out. */
int data_file_path(const char *name, char *out, size_t len);

#endif

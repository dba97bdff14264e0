/* util.c - dates, time and hex formatting, UTF-8 validation, capped buffer
 * growth and enum names shared by several stages. */
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t wall_now_us(void)
{
	return clock_us(CLOCK_REALTIME);
}

uint64_t mono_now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

uint64_t thread_cpu_us(void)
{
	return clock_us(CLOCK_THREAD_CPUTIME_ID);
}

/* Days since 1970-01-01 (negative before) to a civil date (Howard
 * Hinnant's algorithm, proleptic Gregorian).  Exact for every day an
 * int64_t of seconds reaches (|z| < 2^47): no product below overflows. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* The two decimal digits of v (below 100) at p. */
static void put2(char *p, unsigned v)
{
	memcpy(p, digit_pairs + 2 * v, 2);
}

/* "YYYY-MM-DDTHH:MM:SS" of a year 0..9999 at p (19 bytes, no NUL). */
static void put_date_time(char *p, unsigned y, unsigned mo, unsigned d, unsigned sod)
{
	put2(p, y / 100);
	put2(p + 2, y % 100);
	p[4] = '-';
	put2(p + 5, mo);
	p[7] = '-';
	put2(p + 8, d);
	p[10] = 'T';
	put2(p + 11, sod / 3600);
	p[13] = ':';
	put2(p + 14, sod / 60 % 60);
	p[16] = ':';
	put2(p + 17, sod % 60);
}

/* Written by hand: every event carries two or three of these, and
 * gmtime_r + strftime + snprintf cost more than the rest of a line. */
const char *ts_format_time(uint64_t ts_us, char *buf, size_t len)
{
	uint64_t secs = ts_us / 1000000u;
	int64_t y;
	unsigned mo, d;
	civil_from_days((int64_t)(secs / 86400), &y, &mo, &d);
	unsigned sod = (unsigned)(secs % 86400);
	if (y > 9999 || len < 32) {
		/* beyond the fixed width: the general (slow) path */
		time_t t = (time_t)secs;
		struct tm tm;
		char base[40];
		if (!gmtime_r(&t, &tm) || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			snprintf(base, sizeof(base), "1970-01-01T00:00:00");
		snprintf(buf, len, "%s.%06u+0000", base, (unsigned)(ts_us % 1000000u));
		return buf;
	}
	/* "YYYY-MM-DDTHH:MM:SS.uuuuuu+0000" */
	unsigned us = (unsigned)(ts_us % 1000000u);
	put_date_time(buf, (unsigned)y, mo, d, sod);
	buf[19] = '.';
	put2(buf + 20, us / 10000);
	put2(buf + 22, us / 100 % 100);
	put2(buf + 24, us % 100);
	memcpy(buf + 26, "+0000", 6);
	return buf;
}

/* The general path of ts_format_utc_seconds(): what the certificate
 * writer always did. */
static const char *utc_seconds_slow(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if ((int64_t)tt != t || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return buf;
}

/* By hand for the years strftime writes with exactly four digits: two of
 * these per certificate of every chain cost more than its JSON. */
const char *ts_format_utc_seconds(int64_t t, char *buf, size_t len)
{
	int64_t days = t / 86400, sod = t % 86400;
	int64_t y;
	unsigned mo, d;
	if (sod < 0) { /* floor division: the day before the epoch starts at -86400 */
		sod += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	if (y < 1000 || y > 9999 || len < 21)
		return utc_seconds_slow(t, buf, len);
	put_date_time(buf, (unsigned)y, mo, d, (unsigned)sod);
	memcpy(buf + 19, "Z", 2);
	return buf;
}

const char *ts_hex16(uint16_t v, char buf[7])
{
	static const char digits[] = "0123456789abcdef";
	buf[0] = '0';
	buf[1] = 'x';
	for (int i = 0; i < 4; i++)
		buf[2 + i] = digits[(v >> (12 - 4 * i)) & 15];
	buf[6] = '\0';
	return buf;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t utf8_seq_len(const uint8_t *s, size_t n)
{
	size_t need;
	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3/4-byte forms, surrogates and > U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return need;
}

const char *name_of(const char *const *names, size_t n, unsigned v, const char *fallback)
{
	return v < n && names[v] ? names[v] : fallback;
}

bool bytes_reserve(uint8_t **buf, uint32_t *cap, uint32_t need, uint32_t first, uint32_t max)
{
	uint64_t n = *cap ? *cap : first; /* 64 bits: doubling past 2^31 cannot wrap */
	uint8_t *nb;
	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	if (n > max)
		n = max;
	nb = realloc(*buf, (size_t)n);
	if (!nb)
		return false;
	memset(nb + *cap, 0, (size_t)n - *cap);
	*buf = nb;
	*cap = (uint32_t)n;
	return true;
}

int parse_duration_us(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	double mult = 1e6;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1e6;
	else if (strcmp(end, "ms") == 0)
		mult = 1e3;
	else if (strcmp(end, "us") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60e6;
	else if (strcmp(end, "h") == 0)
		mult = 3600e6;
	else
		return -1;
	double us = v * mult;
	if (us > 1e15) /* over 30 years: surely a typo */
		return -1;
	*out = (uint64_t)us;
	return 0;
}

int data_file_path(const char *name, char *out, size_t len)
{
	const char *env = getenv("TAMPERSCOPE_DATADIR");
	char exe[PATH_MAX];
	if (env && *env) {
		snprintf(out, len, "%s/%s", env, name);
		if (access(out, R_OK) == 0)
			return 0;
	}
	if (realpath("/proc/self/exe", exe)) {
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			size_t dl = strlen(exe);
			if (dl >= 4 && strcmp(exe + dl - 4, "/src") == 0) {
				exe[dl - 4] = '\0';
				snprintf(out, len, "%s/data/%s", exe, name);
				if (access(out, R_OK) == 0)
					return 0;
			}
		}
	}
#ifdef TS_PKGDATADIR
	snprintf(out, len, "%s/%s", TS_PKGDATADIR, name);
	if (access(out, R_OK) == 0)
		return 0;
#endif
	return -1;
}

void file_buffer(FILE *fp, char **buf, size_t size)
{
	if (!*buf)
		*buf = malloc(size);
	if (*buf)
		setvbuf(fp, *buf, _IOFBF, size);
}

FILE *reopen_append(FILE *fp, const char *path, char **buf, size_t size, const char *what)
{
	FILE *nf = fopen(path, "a");
	if (!nf) {
		fprintf(stderr, "tamperscope: reopening %s: %s: %s\n", what, path, strerror(errno));
		return fp;
	}
	fclose(fp);
	file_buffer(nf, buf, size);
	return nf;
}

enum slurp_result slurp_file(FILE *f, size_t limit, char **buf, size_t *len)
{
	char *b = NULL, *nb;
	size_t cap = 0, n = 0, got;

	do {
		if (n == cap) {
			size_t grow = cap ? 2 * cap : 65536;
			if (cap >= limit) {
				free(b);
				return SLURP_TOO_BIG;
			}
			if (grow > limit)
				grow = limit;
			if (!(nb = realloc(b, grow + 1))) {
				free(b);
				return SLURP_NO_MEMORY;
			}
			b = nb;
			cap = grow;
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		int e = errno;
		free(b);
		errno = e;
		return SLURP_READ_ERROR;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return SLURP_OK;
}

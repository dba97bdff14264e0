/* util.c - time and hex formatting shared by outputs and options. */
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

const char *ts_format_time(uint64_t ts_us, char *buf, size_t len)
{
	time_t secs = (time_t)(ts_us / 1000000u);
	struct tm tm;
	char base[24];
	if (!gmtime_r(&secs, &tm) ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(base, sizeof(base), "1970-01-01T00:00:00");
	snprintf(buf, len, "%s.%06u+0000", base, (unsigned)(ts_us % 1000000u));
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

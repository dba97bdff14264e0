/* scanner.c - per-client estimate of distinct connection targets and
 * answered attempts over a sliding window: who is scanning (scanner.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scanner.h"

struct client {
	struct ts_addr addr;
	uint64_t window_start_us;
	uint32_t attempts, answered;    /* in the current window */
	uint64_t scan_from_us;          /* first window found scanning, 0: never */
	uint64_t scan_until_us;         /* end of the last window found scanning */
	uint8_t map[SCANNER_MAP_BITS / 8];
};

struct scanners {
	struct htab t;
	struct hseed seed;
	unsigned max_clients;
	struct scanner_stats st;
};

struct scanners *scanners_new(unsigned max_clients, const struct hseed *seed)
{
	struct scanners *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->seed = *seed;
	s->max_clients = max_clients ? max_clients : SCANNER_DEFAULT_CLIENTS;
	if (htab_init(&s->t, 64, s->max_clients * 2) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void scanners_free(struct scanners *s)
{
	if (!s)
		return;
	void *e;
	for (uint32_t i = 0; (e = htab_next(&s->t, &i));)
		free(e);
	htab_free(&s->t);
	free(s);
}

const struct scanner_stats *scanners_stats(const struct scanners *s)
{
	return &s->st;
}

static bool client_eq(const void *e, const void *key)
{
	return memcmp(((const struct client *)e)->addr.a, ((const struct ts_addr *)key)->a, 16) == 0;
}

static struct client *find(const struct scanners *s, const struct ts_addr *a, uint64_t *h)
{
	*h = hseed_hash(&s->seed, a->a, 16);
	return htab_find(&s->t, *h, client_eq, a);
}

/* Linear counting: n = -m ln(zero bits / m). */
static double distinct(const struct client *c)
{
	unsigned zero = 0;
	for (unsigned i = 0; i < sizeof(c->map); i++)
		zero += 8 - (unsigned)__builtin_popcount(c->map[i]);
	if (zero == 0)
		return (double)SCANNER_MAP_BITS * 8; /* saturated: far past the threshold */
	return -(double)SCANNER_MAP_BITS * log((double)zero / SCANNER_MAP_BITS);
}

static void judge(struct scanners *s, struct client *c)
{
	if (c->attempts < SCANNER_MIN_TARGETS || (uint64_t)c->answered * 4 > c->attempts)
		return;
	if (distinct(c) < SCANNER_MIN_TARGETS)
		return;
	if (!c->scan_from_us) {
		c->scan_from_us = c->window_start_us;
		s->st.scanners++;
	}
	c->scan_until_us = c->window_start_us + SCANNER_WINDOW_US;
}

/* A window that has ended is judged, then gives way to a new one starting
 * now.  Judging whole windows (or ones old enough, see
 * scanners_is_scanner) lets the servers' answers arrive first: a client
 * opening many connections at once is answered a round trip later. */
static void roll(struct scanners *s, struct client *c, uint64_t ts_us)
{
	if (ts_us >= c->window_start_us + SCANNER_WINDOW_US || ts_us < c->window_start_us) {
		judge(s, c);
		c->window_start_us = ts_us;
		c->attempts = c->answered = 0;
		memset(c->map, 0, sizeof(c->map));
	}
}

void scanners_attempt(struct scanners *s, const struct ts_addr *cli, const struct ts_addr *srv,
		      uint16_t port, uint64_t ts_us)
{
	uint64_t h;
	struct client *c = find(s, cli, &h);
	if (!c) {
		if (s->t.used >= s->max_clients || !(c = calloc(1, sizeof(*c)))) {
			s->st.clients_dropped++;
			return;
		}
		c->addr = *cli;
		c->window_start_us = ts_us;
		if (htab_insert(&s->t, h, c) < 0) {
			free(c);
			s->st.clients_dropped++;
			return;
		}
		s->st.clients++;
	}
	roll(s, c, ts_us);
	uint8_t key[18];
	memcpy(key, srv->a, 16);
	key[16] = (uint8_t)(port >> 8);
	key[17] = (uint8_t)port;
	uint32_t bit = (uint32_t)hseed_hash(&s->seed, key, sizeof(key)) % SCANNER_MAP_BITS;
	c->map[bit / 8] |= (uint8_t)(1u << (bit % 8));
	if (c->attempts < UINT32_MAX)
		c->attempts++;
}

void scanners_answered(struct scanners *s, const struct ts_addr *cli, uint64_t ts_us)
{
	uint64_t h;
	struct client *c = find(s, cli, &h);
	if (!c)
		return;
	roll(s, c, ts_us);
	if (c->answered < UINT32_MAX)
		c->answered++;
}

bool scanners_is_scanner(struct scanners *s, const struct ts_addr *cli, uint64_t start_us,
			 uint64_t now_us)
{
	uint64_t h;
	struct client *c = find(s, cli, &h);
	if (!c)
		return false;
	if (now_us >= c->window_start_us + SCANNER_ANSWER_GRACE_US)
		judge(s, c);
	if (!c->scan_from_us)
		return false;
	return start_us + SCANNER_WINDOW_US >= c->scan_from_us && start_us <= c->scan_until_us;
}

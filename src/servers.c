/* servers.c - per-server memory across flows (servers.h). */
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "servers.h"

struct server {
	uint8_t addr[16];
	uint8_t ttl;
};

struct servers {
	struct htab t;
	struct hseed seed;
	unsigned cap;
	struct servers_stats st;
};

struct servers *servers_new(unsigned cap, const struct hseed *seed)
{
	struct servers *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->seed = *seed;
	s->cap = cap ? cap : SERVERS_DEFAULT_CAP;
	if (htab_init(&s->t, 64, s->cap * 4) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void servers_free(struct servers *s)
{
	void *e;
	if (!s)
		return;
	for (uint32_t i = 0; (e = htab_next(&s->t, &i));)
		free(e);
	htab_free(&s->t);
	free(s);
}

static bool server_eq(const void *e, const void *key)
{
	return memcmp(((const struct server *)e)->addr, key, 16) == 0;
}

void servers_note_ttl(struct servers *s, const struct ts_addr *srv, uint8_t ttl)
{
	uint64_t h = hseed_hash(&s->seed, srv->a, 16);
	struct server *e = htab_find(&s->t, h, server_eq, srv->a);
	if (e) {
		e->ttl = ttl;
		return;
	}
	if (s->t.used >= s->cap || !(e = calloc(1, sizeof(*e)))) {
		s->st.dropped++;
		return;
	}
	memcpy(e->addr, srv->a, 16);
	e->ttl = ttl;
	if (htab_insert(&s->t, h, e) < 0) {
		free(e);
		s->st.dropped++;
		return;
	}
	s->st.known++;
}

bool servers_ttl(const struct servers *s, const struct ts_addr *srv, uint8_t *ttl)
{
	const struct server *e = htab_find(&s->t, hseed_hash(&s->seed, srv->a, 16), server_eq, srv->a);
	if (e)
		*ttl = e->ttl;
	return e != NULL;
}

const struct servers_stats *servers_stats(const struct servers *s)
{
	return &s->st;
}

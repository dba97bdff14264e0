/* classify.c - nDPI 4.2 application classification of flows. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "classify.h"
#include "util.h"

/* nDPI's full names already written (classify_detail), by protocol pair
 * and buffer size: nDPI formats one with snprintf for every flow's record,
 * and a capture holds few pairs.  Direct-mapped; a collision overwrites. */
#define DETAIL_MEMO 64
#define DETAIL_MEMO_LEN 64

struct detail_memo {
	uint16_t master, app;
	uint8_t len;                  /* the buffer's size it was written for; 0: empty */
	char name[DETAIL_MEMO_LEN];
};

/* What nDPI's host table answered for a server name (classify_tls), by
 * the name and the flow's address guess, the only parts of the flow its
 * answer reads: its automata cost more than the rest of a ClientHello, and
 * a capture asks about few names.  Direct-mapped by an unkeyed hash (a
 * collision only costs nDPI's lookup); longer names are not kept. */
#define HOST_MEMO 512
#define HOST_MEMO_NAME 64

struct host_memo {
	uint8_t len;                  /* 0: empty */
	uint8_t matched;
	uint16_t guess;               /* the flow's guessed_host_protocol_id */
	uint16_t proto[2];            /* detected_protocol_stack after a match */
	char name[HOST_MEMO_NAME];
};

struct classify {
	struct ndpi_detection_module_struct *mod;
	struct classify_stats st;
	struct detail_memo memo[DETAIL_MEMO];
	struct host_memo hosts[HOST_MEMO];
};

/* nDPI's start initialises libgcrypt, which is not safe to do from two
 * threads at once (worker threads start their classifiers together). */
static pthread_mutex_t ndpi_start = PTHREAD_MUTEX_INITIALIZER;

/* Modules left for the process exit (classify_exiting); guarded by ndpi_start.
 * Past the table's size they are freed as before. */
#define CLASSIFY_KEEP_MAX 256
static bool exiting;
static struct ndpi_detection_module_struct *kept[CLASSIFY_KEEP_MAX];
static unsigned n_kept;

void classify_exiting(void)
{
	pthread_mutex_lock(&ndpi_start);
	exiting = true;
	pthread_mutex_unlock(&ndpi_start);
}

struct classify *classify_new(void)
{
	struct classify *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_lock(&ndpi_start);
	c->mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (!c->mod) {
		pthread_mutex_unlock(&ndpi_start);
		free(c);
		return NULL;
	}
	NDPI_PROTOCOL_BITMASK all;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(c->mod, &all);
	ndpi_finalize_initialization(c->mod);
	pthread_mutex_unlock(&ndpi_start);
	return c;
}

void classify_free(struct classify *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&ndpi_start);
	if (exiting && n_kept < CLASSIFY_KEEP_MAX)
		kept[n_kept++] = c->mod;
	else
		ndpi_exit_detection_module(c->mod);
	pthread_mutex_unlock(&ndpi_start);
	free(c);
}

const struct classify_stats *classify_stats(const struct classify *c)
{
	return &c->st;
}

static void release(struct flow *f)
{
	if (f->ndpi) {
		ndpi_free_flow(f->ndpi);
		f->ndpi = NULL;
	}
}

static void set_result(struct flow *f, ndpi_protocol proto)
{
	f->app_master = proto.master_protocol;
	f->app_proto = proto.app_protocol;
}

bool classify_packet(struct classify *c, struct flow *f, const struct ts_packet *p)
{
	if (f->app_final)
		return false;
	if (!f->ndpi) {
		f->ndpi = calloc(1, SIZEOF_FLOW_STRUCT);
		if (!f->ndpi) {
			c->st.alloc_failed++;
			f->app_final = 1;
			return false;
		}
		c->st.flows_fed++;
	}
	/* nDPI takes an unsigned short length: larger datagrams (only possible
	 * after defragmentation) are cut, which it tolerates. */
	unsigned short len = p->l3_len > 0xffff ? 0xffff : (unsigned short)p->l3_len;
	ndpi_protocol proto = ndpi_detection_process_packet(
		c->mod, f->ndpi, p->l3, len, p->ts_us / 1000);
	unsigned fed = (unsigned)f->pkts[0] + f->pkts[1];
	if (proto.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
	    proto.master_protocol != NDPI_PROTOCOL_UNKNOWN) {
		set_result(f, proto);
		f->app_final = 1;
		c->st.decided++;
		release(f);
		return true;
	}
	if (fed >= CLASSIFY_MAX_PACKETS) {
		classify_finish(c, f);
		return true;
	}
	return false;
}

void classify_finish(struct classify *c, struct flow *f)
{
	if (f->app_final) {
		release(f);
		return;
	}
	if (f->ndpi) {
		uint8_t guessed = 0;
		ndpi_protocol proto = ndpi_detection_giveup(c->mod, f->ndpi, 1, &guessed);
		set_result(f, proto);
		c->st.gave_up++;
	}
	f->app_final = 1;
	release(f);
}

/* The SNI as nDPI's dissectors pass it to its host table: lowercase,
 * NUL-terminated, at most 255 bytes. */
static size_t host_name(const char *sni, size_t len, char name[256])
{
	if (len > 255)
		len = 255;
	ascii_lower_n(name, sni, len);
	name[len] = '\0';
	return len;
}

/* FNV-1a: the slot of a name in the host memo. */
static unsigned name_slot(const char *name, size_t len, uint16_t guess)
{
	uint32_t h = 2166136261u ^ guess;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return (h ^ (h >> 15)) % HOST_MEMO;
}

/* ndpi_match_hostname_protocol through the memo: whether the name matched
 * and, if so, the protocols it set. */
static bool host_match(struct classify *c, struct ndpi_flow_struct *nf, char *name, size_t len,
		       uint16_t proto[2])
{
	uint16_t guess = nf->guessed_host_protocol_id;
	struct host_memo *m = NULL;
	if (len < HOST_MEMO_NAME) {
		m = &c->hosts[name_slot(name, len, guess)];
		if (m->len == len && m->guess == guess && memcmp(m->name, name, len) == 0) {
			proto[0] = m->proto[0];
			proto[1] = m->proto[1];
			return m->matched;
		}
	}
	bool matched = ndpi_match_hostname_protocol(c->mod, nf, NDPI_PROTOCOL_TLS, name, (u_int)len);
	proto[0] = nf->detected_protocol_stack[0];
	proto[1] = nf->detected_protocol_stack[1];
	if (m) {
		m->len = (uint8_t)len;
		m->guess = guess;
		m->matched = matched;
		m->proto[0] = proto[0];
		m->proto[1] = proto[1];
		memcpy(m->name, name, len);
	}
	return matched;
}

bool classify_tls(struct classify *c, struct flow *f, const char *sni, size_t len)
{
	char name[256];
	uint16_t proto[2];
	struct ndpi_flow_struct *nf = f->ndpi;
	if (f->app_final || !nf || !len)
		return false;
	len = host_name(sni, len, name);
	if (host_match(c, nf, name, len, proto)) {
		f->app_proto = proto[0];
		f->app_master = proto[1];
	} else if (nf->guessed_host_protocol_id != NDPI_PROTOCOL_UNKNOWN) {
		f->app_master = NDPI_PROTOCOL_TLS; /* the server's address names it */
		f->app_proto = nf->guessed_host_protocol_id;
	} else {
		f->app_master = NDPI_PROTOCOL_UNKNOWN;
		f->app_proto = NDPI_PROTOCOL_TLS;
	}
	f->app_final = 1;
	c->st.decided++;
	release(f);
	return true;
}

void classify_quic(struct classify *c, struct flow *f, const char *sni, size_t len)
{
	char name[256];
	ndpi_protocol_match_result m;
	if (f->app_final)
		return;
	if (!f->ndpi && !(f->ndpi = calloc(1, SIZEOF_FLOW_STRUCT))) {
		c->st.alloc_failed++;
		f->app_final = 1;
		return;
	}
	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	memcpy(name, sni, len);
	name[len] = '\0';
	memset(&m, 0, sizeof(m));
	uint16_t app = len ? ndpi_match_host_subprotocol(c->mod, f->ndpi, name, (u_int)len, &m,
							 NDPI_PROTOCOL_QUIC)
			   : NDPI_PROTOCOL_UNKNOWN;
	f->app_master = NDPI_PROTOCOL_QUIC;
	f->app_proto = app != NDPI_PROTOCOL_UNKNOWN ? app : NDPI_PROTOCOL_QUIC;
	f->app_final = 1;
	c->st.decided++;
	release(f);
}

const char *classify_name(const struct classify *c, const struct flow *f)
{
	uint16_t id = f->app_master != NDPI_PROTOCOL_UNKNOWN ? f->app_master : f->app_proto;
	if (id == NDPI_PROTOCOL_UNKNOWN)
		return "unknown";
	return ndpi_get_proto_name(c->mod, id);
}

const char *classify_detail(struct classify *c, const struct flow *f, char *buf, size_t len)
{
	ndpi_protocol proto;
	memset(&proto, 0, sizeof(proto));
	proto.master_protocol = f->app_master;
	proto.app_protocol = f->app_proto;
	if (len == 0 || len > DETAIL_MEMO_LEN)
		return ndpi_protocol2name(c->mod, proto, buf, (u_int)len);
	/* what nDPI writes into a buffer of len bytes: at most len - 1 and a NUL */
	struct detail_memo *m = &c->memo[(f->app_master * 31u + f->app_proto) % DETAIL_MEMO];
	if (m->len != len || m->master != f->app_master || m->app != f->app_proto) {
		ndpi_protocol2name(c->mod, proto, m->name, (u_int)len);
		m->master = f->app_master;
		m->app = f->app_proto;
		m->len = (uint8_t)len;
	}
	memcpy(buf, m->name, strlen(m->name) + 1);
	return buf;
}

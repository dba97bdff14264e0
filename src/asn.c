/* asn.c - enrichment: address to ASN and organisation via libmaxminddb, cached. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <maxminddb.h>

#include "asn.h"
#include "htab.h"
#include "util.h"

struct asn_cache_slot {
	uint8_t addr[16];
	uint8_t used;
	uint32_t asn;
	const char *org;
};

struct asn_db {
	MMDB_s mmdb;
	bool have_db;
	char *path;
	/* Addresses are the senders' choice: the cache slot of one must not be
	 * predictable. */
	struct hseed seed;
	struct asn_cache_slot *cache;
	/* Interned organisation strings (char *): many addresses share one
	 * AS, and cache slots point here instead of owning copies. */
	struct htab orgs;
	struct asn_stats st;
};

static const char *const system_paths[] = {
	"/usr/share/GeoIP/GeoLite2-ASN.mmdb",
	"/var/lib/GeoIP/GeoLite2-ASN.mmdb",
};

void asn_cfg_from_env(struct asn_cfg *cfg)
{
	cfg->env_db = getenv("TAMPERSCOPE_ASN_DB");
	if (cfg->env_db && !cfg->env_db[0])
		cfg->env_db = NULL;
	cfg->env_datadir = getenv("TAMPERSCOPE_DATADIR");
	if (cfg->env_datadir && !cfg->env_datadir[0])
		cfg->env_datadir = NULL;
	cfg->exe_path = "/proc/self/exe";
#ifdef TS_PKGDATADIR
	cfg->pkgdatadir = TS_PKGDATADIR;
#else
	cfg->pkgdatadir = NULL;
#endif
}

/* ---- address helpers ---------------------------------------------------- */

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool asn_addr_is_v4(const struct ts_addr *a)
{
	return a->v4 || memcmp(a->a, v4_mapped_prefix, 12) == 0;
}

void anonymize_addr(struct ts_addr *a)
{
	if (asn_addr_is_v4(a))
		a->a[15] = 0;                      /* /24 */
	else
		memset(a->a + 6, 0, 10);           /* /48 */
}

/* ---- range to CIDR networks ------------------------------------------- */

typedef unsigned __int128 u128;

static u128 addr_load(const uint8_t b[16], int bits)
{
	u128 v = 0;
	for (int i = bits == 32 ? 12 : 0; i < 16; i++)
		v = (v << 8) | b[i];
	return v;
}

static void addr_store(u128 v, int bits, uint8_t out[16])
{
	if (bits == 32)
		memcpy(out, v4_mapped_prefix, 12);
	for (int i = 15; i >= (bits == 32 ? 12 : 0); i--) {
		out[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* Last address of the aligned block of 2^host addresses starting at f. */
static u128 block_last(u128 f, int host)
{
	if (host >= 128)
		return ~(u128)0;
	return f + (((u128)1 << host) - 1);
}

int asn_range_to_nets(const uint8_t first[16], const uint8_t last[16], int bits,
		      struct asn_net *out)
{
	if (bits != 32 && bits != 128)
		return -1;
	u128 f = addr_load(first, bits), l = addr_load(last, bits);
	if (f > l)
		return -1;
	int n = 0;
	while (n < ASN_RANGE_MAX_NETS) {
		/* the largest block aligned at f that does not pass l */
		int host = 0;
		if (f == 0)
			host = bits;
		else
			while (host < bits && !((f >> host) & 1))
				host++;
		while (host > 0 && block_last(f, host) > l)
			host--;
		addr_store(f, bits, out[n].addr);
		out[n].plen = (uint8_t)(bits - host);
		n++;
		u128 bl = block_last(f, host);
		if (bl >= l)
			break;
		f = bl + 1;
	}
	return n;
}

/* ---- organisation strings ---------------------------------------------- */

static bool org_eq(const void *entry, const void *key)
{
	return strcmp(entry, key) == 0;
}

/* The interned copy of org, or NULL when ASN_MAX_ORGS are kept, the table
 * refuses it or memory is out. */
static const char *orgs_intern(struct asn_db *db, const char *org)
{
	uint64_t h = hseed_hash(&db->seed, org, strlen(org));
	char *s = htab_find(&db->orgs, h, org_eq, org);
	if (s)
		return s;
	if (db->orgs.used >= ASN_MAX_ORGS || !(s = strdup(org)))
		return NULL;
	if (htab_insert(&db->orgs, h, s) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* Copy an organisation name for output: control bytes and invalid UTF-8
 * become '?', so every output (terminal, JSON, CSV) shows it the same way
 * and a report re-read by `merge` compares equal byte for byte. */
static void org_clean(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < cap;) {
		size_t k = in[i] < 0x20 || in[i] == 0x7f ? 0 : utf8_seq_len(in + i, n - i);
		if (k == 0 || j + k >= cap) {
			if (k != 0)
				break; /* a whole sequence does not fit: stop before it */
			out[j++] = '?';
			i++;
			continue;
		}
		memcpy(out + j, in + i, k);
		j += k;
		i += k;
	}
	out[j] = '\0';
}

/* ---- opening ------------------------------------------------------------ */

static int try_open(struct asn_db *db, const char *path, char *why, size_t whylen)
{
	int rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (rc != MMDB_SUCCESS) {
		snprintf(why, whylen, "%s: %s%s%s", path, MMDB_strerror(rc),
			 rc == MMDB_IO_ERROR ? ": " : "",
			 rc == MMDB_IO_ERROR ? strerror(errno) : "");
		return -1;
	}
	db->path = strdup(path);
	if (!db->path) {
		MMDB_close(&db->mmdb);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	db->have_db = true;
	return 0;
}

/* <dir of the binary>/../data/asn.mmdb when the binary is in a build
 * tree's src/ directory: running ./src/tamperscope before `make install`
 * finds the database `make asn-db` built. */
static int build_tree_path(const char *exe, char *out, size_t len)
{
	char real[PATH_MAX];
	if (!exe || !realpath(exe, real))
		return -1;
	char *slash = strrchr(real, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	size_t dl = strlen(real);
	if (dl < 4 || strcmp(real + dl - 4, "/src") != 0)
		return -1;
	real[dl - 4] = '\0';
	int n = snprintf(out, len, "%s/data/asn.mmdb", real);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* The searched candidates (3-7 of the order in asn.h), in order. */
static int search(struct asn_db *db, const struct asn_cfg *cfg, char *warn, size_t warnlen)
{
	char cand[5][PATH_MAX];
	int n = 0;
	for (size_t i = 0; i < sizeof(system_paths) / sizeof(system_paths[0]); i++)
		snprintf(cand[n++], PATH_MAX, "%s", system_paths[i]);
	if (cfg->env_datadir)
		snprintf(cand[n++], PATH_MAX, "%s/asn.mmdb", cfg->env_datadir);
	if (build_tree_path(cfg->exe_path, cand[n], PATH_MAX) == 0)
		n++;
	if (cfg->pkgdatadir)
		snprintf(cand[n++], PATH_MAX, "%s/asn.mmdb", cfg->pkgdatadir);

	char failed[512] = "";
	for (int i = 0; i < n; i++) {
		if (access(cand[i], R_OK) != 0)
			continue;
		char why[512];
		if (try_open(db, cand[i], why, sizeof(why)) == 0) {
			if (failed[0] && warn)
				snprintf(warn, warnlen, "cannot use ASN database %s; using %s",
					 failed, cand[i]);
			return 0;
		}
		if (!failed[0])
			snprintf(failed, sizeof(failed), "%s", why);
	}
	if (warn)
		snprintf(warn, warnlen,
			 "no ASN database found%s%s (tried --asn-db, TAMPERSCOPE_ASN_DB, "
			 "the GeoIP directories and %s/asn.mmdb; `make asn-db` builds one); "
			 "networks are reported as AS0 \"%s\"",
			 failed[0] ? ", " : "", failed,
			 cfg->pkgdatadir ? cfg->pkgdatadir : "the data directory",
			 ASN_UNKNOWN_ORG);
	return -1;
}

struct asn_db *asn_open(const struct asn_cfg *cfg, char *err, size_t errlen,
			char *warn, size_t warnlen)
{
	if (warn && warnlen)
		warn[0] = '\0';
	struct asn_db *db = calloc(1, sizeof(*db));
	if (db)
		db->cache = calloc(ASN_CACHE_SLOTS, sizeof(*db->cache));
	/* Room for ASN_MAX_ORGS at a quarter load, where a full probe window
	 * (a refused insert) is vanishingly rare. */
	if (!db || !db->cache || htab_init(&db->orgs, 1024, 4 * ASN_MAX_ORGS) < 0) {
		if (db)
			free(db->cache);
		free(db);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg->seed)
		db->seed = *cfg->seed;
	else
		hseed_draw(&db->seed);
	if (cfg->disabled)
		return db;
	/* An explicitly named database must open: the user asked for it. */
	const char *explicit = cfg->path ? cfg->path : cfg->env_db;
	if (explicit) {
		char why[PATH_MAX + 128];
		if (try_open(db, explicit, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "ASN database%s %s",
				 cfg->path ? "" : " (TAMPERSCOPE_ASN_DB)", why);
			asn_close(db);
			return NULL;
		}
		return db;
	}
	search(db, cfg, warn, warnlen);
	return db;
}

void asn_close(struct asn_db *db)
{
	if (!db)
		return;
	if (db->have_db)
		MMDB_close(&db->mmdb);
	free(db->path);
	free(db->cache);
	htab_free_all(&db->orgs, free);
	free(db);
}

const char *asn_path(const struct asn_db *db)
{
	return db->have_db ? db->path : NULL;
}

const struct asn_stats *asn_stats(const struct asn_db *db)
{
	return &db->st;
}

/* ---- lookup ------------------------------------------------------------- */

/* The number may be stored with any integer type (GeoLite2 uses uint32). */
static bool entry_asn(MMDB_entry_s *e, uint32_t *asn)
{
	MMDB_entry_data_s d;
	if (MMDB_get_value(e, &d, "autonomous_system_number", NULL) != MMDB_SUCCESS ||
	    !d.has_data)
		return false;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16:
		*asn = d.uint16;
		return true;
	case MMDB_DATA_TYPE_UINT32:
		*asn = d.uint32;
		return true;
	case MMDB_DATA_TYPE_INT32:
		if (d.int32 < 0)
			return false;
		*asn = (uint32_t)d.int32;
		return true;
	case MMDB_DATA_TYPE_UINT64:
		if (d.uint64 > UINT32_MAX)
			return false;
		*asn = (uint32_t)d.uint64;
		return true;
	default:
		return false;
	}
}

static void entry_org(MMDB_entry_s *e, char *org, size_t len)
{
	MMDB_entry_data_s d;
	org[0] = '\0';
	if (MMDB_get_value(e, &d, "autonomous_system_organization", NULL) != MMDB_SUCCESS ||
	    !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return;
	org_clean((const uint8_t *)d.utf8_string, d.data_size, org, len);
}

/* The uncached lookup: 0 found, 1 no entry, -1 error. */
static int mmdb_lookup(struct asn_db *db, const struct ts_addr *a, uint32_t *asn,
		       char *org, size_t orglen)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (asn_addr_is_v4(a)) {
		/* AF_INET: found in an IPv4-only DB and via ::/96 in an IPv6 DB,
		 * aliased or not; ::ffff:x would miss in an unaliased one. */
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->a + 12, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->a, 16);
	}
	int mmdb_err = MMDB_SUCCESS;
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&db->mmdb, (struct sockaddr *)&ss,
						      &mmdb_err);
	if (mmdb_err != MMDB_SUCCESS)
		return -1;
	if (!r.found_entry)
		return 1;
	if (!entry_asn(&r.entry, asn))
		return -1;
	entry_org(&r.entry, org, orglen);
	return 0;
}

/* Cache key: IPv4 always in the mapped form, whichever way it came. */
static void cache_key(const struct ts_addr *a, uint8_t key[16])
{
	if (asn_addr_is_v4(a)) {
		memcpy(key, v4_mapped_prefix, 12);
		memcpy(key + 12, a->a + 12, 4);
	} else {
		memcpy(key, a->a, 16);
	}
}

void asn_lookup(struct asn_db *db, const struct ts_addr *a, struct asn_info *out)
{
	out->asn = 0;
	out->org = ASN_UNKNOWN_ORG;
	db->st.lookups++;
	if (!db->have_db) {
		db->st.not_found++;
		return;
	}
	uint8_t key[16];
	cache_key(a, key);
	/* Keyed: predictable slots would let a sender alternate two
	 * addresses that evict each other, one database lookup per packet. */
	uint64_t h = hseed_hash(&db->seed, key, sizeof(key));
	struct asn_cache_slot *s = &db->cache[h & (ASN_CACHE_SLOTS - 1)];
	if (s->used && memcmp(s->addr, key, 16) == 0) {
		db->st.cache_hits++;
		out->asn = s->asn;
		out->org = s->org;
		return;
	}

	char org[ASN_ORG_MAX + 1];
	uint32_t asn = 0;
	int rc = mmdb_lookup(db, a, &asn, org, sizeof(org));
	const char *interned = ASN_UNKNOWN_ORG;
	if (rc == 0) {
		db->st.found++;
		if (org[0]) {
			interned = orgs_intern(db, org);
			if (!interned) {
				db->st.orgs_dropped++;
				interned = ASN_UNKNOWN_ORG;
			}
		}
	} else if (rc > 0) {
		db->st.not_found++;
	} else {
		db->st.errors++;
		asn = 0;
	}
	/* Misses are cached too: a scan of unrouted space costs one lookup
	 * per address, not one per packet. */
	memcpy(s->addr, key, 16);
	s->used = 1;
	s->asn = asn;
	s->org = interned;
	out->asn = asn;
	out->org = interned;
}

/* ---- the `asn` command --------------------------------------------------- */

static int parse_addr(const char *s, struct ts_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a + 12) == 1) {
		memcpy(a->a, v4_mapped_prefix, 12);
		a->v4 = 1;
		return 0;
	}
	return inet_pton(AF_INET6, s, a->a) == 1 ? 0 : -1;
}

int asn_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "asn-db", required_argument, NULL, 'a' },
		{ "no-asn-db", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct asn_cfg cfg;
	memset(&cfg, 0, sizeof(cfg)); /* seed NULL: asn_open draws one for this command */
	asn_cfg_from_env(&cfg);
	int c;
	optind = 0; /* glibc: restart scanning from argv[1] */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'a') {
			cfg.path = optarg;
		} else if (c == 'n') {
			cfg.disabled = true;
		} else {
			fprintf(c == 'h' ? stdout : stderr,
				"Usage: tamperscope asn [--asn-db FILE] [--no-asn-db] ADDRESS...\n"
				"Print the AS number and organisation of each address, as the "
				"analysis would.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "tamperscope asn: no address given\n");
		return 2;
	}
	char err[512], warn[1024];
	struct asn_db *db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	if (!db) {
		fprintf(stderr, "tamperscope asn: %s\n", err);
		return 1;
	}
	if (warn[0])
		fprintf(stderr, "tamperscope asn: warning: %s\n", warn);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		struct ts_addr a;
		struct asn_info info;
		if (parse_addr(argv[i], &a) < 0) {
			fprintf(stderr, "tamperscope asn: not an IP address: %s\n", argv[i]);
			rc = 1;
			continue;
		}
		asn_lookup(db, &a, &info);
		printf("%s\t%u\t%s\n", argv[i], info.asn, info.org);
	}
	asn_close(db);
	return rc;
}

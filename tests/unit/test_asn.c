/* test_asn.c - ASN enrichment: range-to-network conversion, MMDB lookups in
 * IPv4-only, aliased and unaliased IPv6 databases, misses, IPv4-mapped input,
 * the cache and its keyed slots, the database search order, anonymisation.
 *
 * The MMDBs are written here, by a minimal writer of the MaxMind DB format
 * (search tree of 24-bit records, data section, metadata), so the test
 * needs neither perl nor a database on the machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asn.h"
#include "htab.h"

/* ---- a minimal MMDB writer ---------------------------------------------- */

#define MB_MAX_NODES 4096
#define MB_EMPTY (-1)

struct mb_entry {
	uint32_t asn;
	const char *org;
};

struct mb {
	int ip_version;
	int32_t rec[MB_MAX_NODES][2]; /* >=0 node, MB_EMPTY, or -(2 + data index) */
	int n_nodes;
	uint8_t data[8192];
	size_t data_len;
	size_t data_off[64];
	int n_data;
};

static void mb_init(struct mb *b, int ip_version)
{
	memset(b, 0, sizeof(*b));
	b->ip_version = ip_version;
	b->n_nodes = 1;
	b->rec[0][0] = b->rec[0][1] = MB_EMPTY;
}

static void put8(uint8_t *d, size_t *len, uint8_t v) { d[(*len)++] = v; }

/* A UTF-8 string (type 2), with the 29+ size form for long keys. */
static void put_str(uint8_t *d, size_t *len, const char *s)
{
	size_t n = strlen(s);
	if (n < 29) {
		put8(d, len, (uint8_t)(0x40 | n));
	} else {
		put8(d, len, 0x40 | 29);
		put8(d, len, (uint8_t)(n - 29));
	}
	memcpy(d + *len, s, n);
	*len += n;
}

/* An unsigned integer of type 5 (uint16), 6 (uint32) or 9 (uint64, extended). */
static void put_uint(uint8_t *d, size_t *len, int type, uint64_t v)
{
	uint8_t bytes[8];
	int n = 0;
	for (uint64_t x = v; x; x >>= 8)
		bytes[n++] = (uint8_t)(x & 0xff);
	if (type <= 7) {
		put8(d, len, (uint8_t)((type << 5) | n));
	} else {
		put8(d, len, (uint8_t)n);
		put8(d, len, (uint8_t)(type - 7));
	}
	while (n)
		put8(d, len, bytes[--n]);
}

static int mb_data(struct mb *b, uint32_t asn, const char *org)
{
	b->data_off[b->n_data] = b->data_len;
	put8(b->data, &b->data_len, 0xe0 | 2); /* map, 2 pairs */
	put_str(b->data, &b->data_len, "autonomous_system_number");
	put_uint(b->data, &b->data_len, 6, asn);
	put_str(b->data, &b->data_len, "autonomous_system_organization");
	put_str(b->data, &b->data_len, org);
	return b->n_data++;
}

/* Insert the prefix of plen bits of addr (16 bytes, or 4 for an IPv4 DB). */
static void mb_insert_bits(struct mb *b, const uint8_t *addr, int plen, int data)
{
	int node = 0;
	for (int i = 0; i < plen; i++) {
		int bit = (addr[i / 8] >> (7 - i % 8)) & 1;
		if (i == plen - 1) {
			b->rec[node][bit] = -(2 + data);
			return;
		}
		if (b->rec[node][bit] < 0) {
			int nn = b->n_nodes++;
			assert_true(nn < MB_MAX_NODES);
			b->rec[nn][0] = b->rec[nn][1] = MB_EMPTY;
			b->rec[node][bit] = nn;
		}
		node = b->rec[node][bit];
	}
}

/* An IPv4 prefix: in an IPv6 DB under ::/96, and with alias also under
 * ::ffff:0:0/96 (what the perl writer's alias achieves for lookups). */
static void mb_add_v4(struct mb *b, const char *net, int plen, int data, bool alias)
{
	uint8_t a[16] = { 0 };
	assert_int_equal(inet_pton(AF_INET, net, a + 12), 1);
	if (b->ip_version == 4) {
		mb_insert_bits(b, a + 12, plen, data);
		return;
	}
	mb_insert_bits(b, a, 96 + plen, data);
	if (alias) {
		a[10] = a[11] = 0xff;
		mb_insert_bits(b, a, 96 + plen, data);
	}
}

static void mb_add_v6(struct mb *b, const char *net, int plen, int data)
{
	uint8_t a[16];
	assert_int_equal(inet_pton(AF_INET6, net, a), 1);
	mb_insert_bits(b, a, plen, data);
}

static uint32_t mb_record(const struct mb *b, int32_t r)
{
	if (r >= 0)
		return (uint32_t)r;
	if (r == MB_EMPTY)
		return (uint32_t)b->n_nodes;
	return (uint32_t)(b->n_nodes + 16 + b->data_off[-r - 2]);
}

static void mb_write(const struct mb *b, const char *path)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (int i = 0; i < b->n_nodes; i++)
		for (int k = 0; k < 2; k++) {
			uint32_t v = mb_record(b, b->rec[i][k]);
			uint8_t rb[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
			fwrite(rb, 1, 3, f);
		}
	static const uint8_t zeros[16];
	fwrite(zeros, 1, 16, f);
	fwrite(b->data, 1, b->data_len, f);

	uint8_t m[512];
	size_t ml = 0;
	fwrite("\xab\xcd\xefMaxMind.com", 1, 14, f);
	put8(m, &ml, 0xe0 | 9);
	put_str(m, &ml, "node_count");
	put_uint(m, &ml, 6, (uint64_t)b->n_nodes);
	put_str(m, &ml, "record_size");
	put_uint(m, &ml, 5, 24);
	put_str(m, &ml, "ip_version");
	put_uint(m, &ml, 5, (uint64_t)b->ip_version);
	put_str(m, &ml, "database_type");
	put_str(m, &ml, "GeoLite2-ASN");
	put_str(m, &ml, "languages");
	put8(m, &ml, 0x00); /* array (extended type 11), 0 elements */
	put8(m, &ml, 11 - 7);
	put_str(m, &ml, "binary_format_major_version");
	put_uint(m, &ml, 5, 2);
	put_str(m, &ml, "binary_format_minor_version");
	put_uint(m, &ml, 5, 0);
	put_str(m, &ml, "build_epoch");
	put_uint(m, &ml, 9, 1700000000);
	put_str(m, &ml, "description");
	put8(m, &ml, 0xe0); /* empty map */
	fwrite(m, 1, ml, f);
	assert_int_equal(fclose(f), 0);
}

/* The test network layout: AS9198, AS21299, a control AS64500 and an IPv6
 * network; 198.18.9.0/24 deliberately not mapped. */
static void build_db(const char *path, int ip_version, bool alias)
{
	struct mb *b = malloc(sizeof(*b));
	assert_non_null(b);
	mb_init(b, ip_version);
	int kz = mb_data(b, 9198, "JSC Kazakhtelecom");
	int kt = mb_data(b, 21299, "Kar-Tel LLC");
	int ctl = mb_data(b, 64500, "Control, \"Lab\" Net");
	int v6 = mb_data(b, 64501, "IPv6 Lab");
	mb_add_v4(b, "198.18.1.0", 24, kz, alias);
	mb_add_v4(b, "198.18.2.0", 25, kt, alias);
	mb_add_v4(b, "198.18.3.0", 24, ctl, alias);
	if (ip_version == 6)
		mb_add_v6(b, "2001:db8:1::", 48, v6);
	mb_write(b, path);
	free(b);
}

/* ---- helpers ------------------------------------------------------------ */

struct tmp {
	char dir[64];
	char db4[128], db6[128], db6n[128];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/ts-test-asn-XXXXXX");
	if (!t || !mkdtemp(t->dir))
		return -1;
	snprintf(t->db4, sizeof(t->db4), "%s/v4.mmdb", t->dir);
	snprintf(t->db6, sizeof(t->db6), "%s/v6.mmdb", t->dir);
	snprintf(t->db6n, sizeof(t->db6n), "%s/v6-noalias.mmdb", t->dir);
	build_db(t->db4, 4, false);
	build_db(t->db6, 6, true);
	build_db(t->db6n, 6, false);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static struct ts_addr addr(const char *s)
{
	struct ts_addr a;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.a + 12) == 1) {
		a.a[10] = a.a[11] = 0xff;
		a.v4 = 1;
	} else {
		assert_int_equal(inet_pton(AF_INET6, s, a.a), 1);
	}
	return a;
}

static struct asn_db *open_seeded(const char *path, const struct hseed *seed)
{
	struct asn_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.seed = seed;
	char err[256], warn[256];
	struct asn_db *db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_non_null(db);
	assert_string_equal(warn, "");
	return db;
}

static struct asn_db *open_path(const char *path)
{
	struct hseed seed;
	hseed_draw(&seed);
	return open_seeded(path, &seed);
}

static void expect(struct asn_db *db, const char *ip, uint32_t asn, const char *org)
{
	struct ts_addr a = addr(ip);
	struct asn_info info;
	asn_lookup(db, &a, &info);
	assert_int_equal(info.asn, asn);
	assert_string_equal(info.org, org);
}

/* ---- lookups ------------------------------------------------------------ */

static void check_layout(const char *path, bool has_v6)
{
	struct asn_db *db = open_path(path);
	expect(db, "198.18.1.7", 9198, "JSC Kazakhtelecom");
	expect(db, "198.18.2.1", 21299, "Kar-Tel LLC");
	expect(db, "198.18.2.200", 0, ASN_UNKNOWN_ORG);   /* past the /25 */
	expect(db, "198.18.3.255", 64500, "Control, \"Lab\" Net");
	expect(db, "198.18.9.1", 0, ASN_UNKNOWN_ORG);     /* a miss */
	if (has_v6) {
		expect(db, "2001:db8:1:ffff::1", 64501, "IPv6 Lab");
		expect(db, "2001:db8:2::1", 0, ASN_UNKNOWN_ORG);
	} else {
		/* an IPv6 address in an IPv4-only DB: an error, answered unknown */
		expect(db, "2001:db8:1::1", 0, ASN_UNKNOWN_ORG);
		assert_true(asn_stats(db)->errors >= 1);
	}
	assert_true(asn_stats(db)->not_found >= 2);
	asn_close(db);
}

static void test_lookup_ipv4_only_db(void **state)
{
	check_layout(((struct tmp *)*state)->db4, false);
}

static void test_lookup_ipv6_aliased_db(void **state)
{
	check_layout(((struct tmp *)*state)->db6, true);
}

static void test_lookup_ipv6_unaliased_db(void **state)
{
	check_layout(((struct tmp *)*state)->db6n, true);
}

/* ::ffff:a.b.c.d without the v4 flag (as an IPv6 packet could carry it)
 * finds the IPv4 entry in every layout, also where ::ffff:0:0/96 is not
 * aliased in the tree. */
static void test_ipv4_mapped_input(void **state)
{
	struct tmp *t = *state;
	const char *paths[] = { t->db4, t->db6, t->db6n };
	for (int i = 0; i < 3; i++) {
		struct asn_db *db = open_path(paths[i]);
		struct ts_addr a = addr("::ffff:198.18.1.9");
		assert_int_equal(a.v4, 0);
		assert_true(asn_addr_is_v4(&a));
		struct asn_info info;
		asn_lookup(db, &a, &info);
		assert_int_equal(info.asn, 9198);
		/* and the v4-flagged form shares the cache slot */
		struct ts_addr b = addr("198.18.1.9");
		uint64_t hits = asn_stats(db)->cache_hits;
		asn_lookup(db, &b, &info);
		assert_int_equal(info.asn, 9198);
		assert_int_equal(asn_stats(db)->cache_hits, hits + 1);
		asn_close(db);
	}
}

static void test_cache_counts(void **state)
{
	struct asn_db *db = open_path(((struct tmp *)*state)->db6);
	expect(db, "198.18.1.1", 9198, "JSC Kazakhtelecom");
	expect(db, "198.18.1.1", 9198, "JSC Kazakhtelecom");
	expect(db, "198.18.9.9", 0, ASN_UNKNOWN_ORG);
	expect(db, "198.18.9.9", 0, ASN_UNKNOWN_ORG); /* misses are cached too */
	const struct asn_stats *st = asn_stats(db);
	assert_int_equal(st->lookups, 4);
	assert_int_equal(st->cache_hits, 2);
	assert_int_equal(st->found, 1);
	assert_int_equal(st->not_found, 1);
	/* the same org string is shared, not copied per address */
	struct ts_addr a = addr("198.18.1.1"), b = addr("198.18.1.2");
	struct asn_info ia, ib;
	asn_lookup(db, &a, &ia);
	asn_lookup(db, &b, &ib);
	assert_ptr_equal(ia.org, ib.org);
	/* many distinct addresses: constant memory, still right */
	char ip[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(ip, sizeof(ip), "198.18.%d.%d", 1 + i % 3, i % 100);
		struct ts_addr x = addr(ip);
		struct asn_info ix;
		asn_lookup(db, &x, &ix);
		assert_int_equal(ix.asn, i % 3 == 0 ? 9198 : i % 3 == 1 ? 21299 : 64500);
	}
	asn_close(db);
}

/* The cache slot asn.c picks: the keyed hash of the IPv4-mapped address. */
static uint32_t cache_slot(const struct hseed *s, const char *ip)
{
	struct ts_addr a = addr(ip);
	return (uint32_t)hseed_hash(s, a.a, sizeof(a.a)) & (ASN_CACHE_SLOTS - 1);
}

/* Addresses of 198.18.9.0 - 198.18.16.255: misses in every test database. */
static void miss_ip(int i, char ip[32])
{
	snprintf(ip, 32, "198.18.%d.%d", 9 + i / 256, i % 256);
}

/* Two addresses that share a cache slot evict each other on every lookup;
 * under another seed the same two do not, so which addresses collide is
 * not something a sender can know. */
static void test_cache_slot_is_keyed(void **state)
{
	const struct hseed s1 = { { 1, 2 } }, s2 = { { 3, 4 } };
	char a[32], b[32];
	int found = 0;
	/* about 120 pairs of 2048 addresses share a slot under one seed */
	for (int i = 0; i < 2048 && !found; i++) {
		for (int j = 0; j < i && !found; j++) {
			miss_ip(i, a);
			miss_ip(j, b);
			found = cache_slot(&s1, a) == cache_slot(&s1, b) &&
				cache_slot(&s2, a) != cache_slot(&s2, b);
		}
	}
	assert_true(found);
	const struct hseed *seeds[2] = { &s1, &s2 };
	for (int k = 0; k < 2; k++) {
		struct asn_db *db = open_seeded(((struct tmp *)*state)->db6, seeds[k]);
		expect(db, a, 0, ASN_UNKNOWN_ORG);
		expect(db, b, 0, ASN_UNKNOWN_ORG);
		expect(db, a, 0, ASN_UNKNOWN_ORG);
		assert_int_equal(asn_stats(db)->cache_hits, k == 0 ? 0 : 1);
		asn_close(db);
	}
}

/* ---- opening and the search order ------------------------------------- */

static void test_explicit_path_must_open(void **state)
{
	struct asn_cfg cfg;
	char err[256] = "", warn[256];
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = "/nonexistent/asn.mmdb";
	assert_null(asn_open(&cfg, err, sizeof(err), warn, sizeof(warn)));
	assert_non_null(strstr(err, "/nonexistent/asn.mmdb"));

	memset(&cfg, 0, sizeof(cfg));
	cfg.env_db = "/nonexistent/env.mmdb";
	err[0] = '\0';
	assert_null(asn_open(&cfg, err, sizeof(err), warn, sizeof(warn)));
	assert_non_null(strstr(err, "TAMPERSCOPE_ASN_DB"));

	/* a file that is not an MMDB */
	struct tmp *t = *state;
	char junk[160];
	snprintf(junk, sizeof(junk), "%s/junk.mmdb", t->dir);
	FILE *f = fopen(junk, "w");
	assert_non_null(f);
	fputs("not a database\n", f);
	fclose(f);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = junk;
	assert_null(asn_open(&cfg, err, sizeof(err), warn, sizeof(warn)));
}

static void test_none_found_warns_and_goes_on(void **state)
{
	struct asn_cfg cfg;
	char err[256], warn[512];
	memset(&cfg, 0, sizeof(cfg));
	cfg.pkgdatadir = "/nonexistent/share/tamperscope";
	struct asn_db *db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_non_null(db);
	if (asn_path(db) == NULL) { /* no GeoLite2 installed on this machine */
		assert_non_null(strstr(warn, "no ASN database"));
		expect(db, "198.18.1.1", 0, ASN_UNKNOWN_ORG);
		expect(db, "2001:db8::1", 0, ASN_UNKNOWN_ORG);
	}
	asn_close(db);

	/* disabled: no database, no warning */
	memset(&cfg, 0, sizeof(cfg));
	cfg.disabled = true;
	cfg.path = "/nonexistent";
	db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_non_null(db);
	assert_null(asn_path(db));
	assert_string_equal(warn, "");
	expect(db, "198.18.1.1", 0, ASN_UNKNOWN_ORG);
	asn_close(db);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

static bool system_db_present(void)
{
	return access("/usr/share/GeoIP/GeoLite2-ASN.mmdb", R_OK) == 0 ||
	       access("/var/lib/GeoIP/GeoLite2-ASN.mmdb", R_OK) == 0;
}

static void test_search_order(void **state)
{
	struct tmp *t = *state;
	if (system_db_present()) { /* a system GeoLite2 database comes first */
		print_message("# skip: a system GeoLite2-ASN database is installed and comes first in the search\n");
		skip();
	}
	char datadir[128], pkgdir[128], src[128], exe[160], p[200];
	snprintf(datadir, sizeof(datadir), "%s/datadir", t->dir);
	snprintf(pkgdir, sizeof(pkgdir), "%s/pkg", t->dir);
	snprintf(src, sizeof(src), "%s/build/src", t->dir);
	assert_int_equal(mkdir(datadir, 0755), 0);
	assert_int_equal(mkdir(pkgdir, 0755), 0);
	snprintf(p, sizeof(p), "%s/build", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(mkdir(src, 0755), 0);
	snprintf(p, sizeof(p), "%s/build/data", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(exe, sizeof(exe), "%s/tamperscope", src);
	copy_file("/bin/true", exe);

	struct asn_cfg cfg;
	char err[256], warn[512];
	memset(&cfg, 0, sizeof(cfg));
	cfg.env_datadir = datadir;
	cfg.exe_path = exe;
	cfg.pkgdatadir = pkgdir;

	/* only the installed default */
	snprintf(p, sizeof(p), "%s/asn.mmdb", pkgdir);
	copy_file(t->db4, p);
	struct asn_db *db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_non_null(db);
	assert_string_equal(asn_path(db), p);
	assert_string_equal(warn, "");
	asn_close(db);

	/* the build tree's data/ beats the installed one */
	snprintf(p, sizeof(p), "%s/build/data/asn.mmdb", t->dir);
	copy_file(t->db6, p);
	db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_non_null(strstr(asn_path(db), "/build/data/asn.mmdb"));
	asn_close(db);

	/* TAMPERSCOPE_DATADIR beats both; a broken one there is skipped
	 * with a warning naming it */
	snprintf(p, sizeof(p), "%s/asn.mmdb", datadir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
	db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_non_null(strstr(asn_path(db), "/build/data/asn.mmdb"));
	assert_non_null(strstr(warn, "cannot use"));
	assert_non_null(strstr(warn, datadir));
	asn_close(db);
	copy_file(t->db6n, p);
	db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_string_equal(asn_path(db), p);
	asn_close(db);

	/* TAMPERSCOPE_ASN_DB and --asn-db come first */
	cfg.env_db = t->db4;
	db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_string_equal(asn_path(db), t->db4);
	asn_close(db);
	cfg.path = t->db6;
	db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_string_equal(asn_path(db), t->db6);
	asn_close(db);

	/* a binary outside a src/ directory does not look at ../data */
	memset(&cfg, 0, sizeof(cfg));
	cfg.exe_path = "/bin/true";
	cfg.pkgdatadir = "/nonexistent";
	db = asn_open(&cfg, err, sizeof(err), warn, sizeof(warn));
	assert_null(asn_path(db));
	asn_close(db);
}

/* ---- range to networks -------------------------------------------------- */

static void v4(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(AF_INET, s, out + 12), 1);
}

static void v6(const char *s, uint8_t out[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static void net_str(const struct asn_net *n, int bits, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(bits == 32 ? AF_INET : AF_INET6, bits == 32 ? n->addr + 12 : n->addr, a,
		  sizeof(a));
	snprintf(out, len, "%s/%u", a, n->plen);
}

static void expect_nets(int bits, const char *first, const char *last, const char *want)
{
	uint8_t f[16], l[16];
	(bits == 32 ? v4 : v6)(first, f);
	(bits == 32 ? v4 : v6)(last, l);
	struct asn_net nets[ASN_RANGE_MAX_NETS];
	int n = asn_range_to_nets(f, l, bits, nets);
	assert_true(n > 0);
	char got[2048] = "", one[64];
	for (int i = 0; i < n; i++) {
		net_str(&nets[i], bits, one, sizeof(one));
		if (i)
			strcat(got, " ");
		strcat(got, one);
	}
	assert_string_equal(got, want);
}

static void test_range_to_networks_vectors(void **state)
{
	/* a real row: 5.34.32.0,5.34.46.255,21299,Kar-Tel LLC */
	expect_nets(32, "5.34.32.0", "5.34.46.255",
		    "5.34.32.0/21 5.34.40.0/22 5.34.44.0/23 5.34.46.0/24");
	expect_nets(32, "2.132.0.0", "2.135.255.255", "2.132.0.0/14");
	expect_nets(32, "0.0.0.0", "255.255.255.255", "0.0.0.0/0");
	expect_nets(32, "10.0.0.5", "10.0.0.5", "10.0.0.5/32");
	expect_nets(32, "10.0.0.255", "10.0.1.0", "10.0.0.255/32 10.0.1.0/32");
	expect_nets(32, "255.255.255.255", "255.255.255.255", "255.255.255.255/32");
	expect_nets(128, "2001:db8::1", "2001:db8::10",
		    "2001:db8::1/128 2001:db8::2/127 2001:db8::4/126 2001:db8::8/125 "
		    "2001:db8::10/128");
	expect_nets(128, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0");
	expect_nets(128, "2a00:12f8::", "2a00:12f8:ffff:ffff:ffff:ffff:ffff:ffff",
		    "2a00:12f8::/32");
	/* IPv4 networks come out IPv4-mapped, like struct ts_addr */
	uint8_t f[16], l[16];
	struct asn_net nets[ASN_RANGE_MAX_NETS];
	v4("1.2.3.0", f);
	v4("1.2.3.255", l);
	assert_int_equal(asn_range_to_nets(f, l, 32, nets), 1);
	assert_int_equal(nets[0].addr[10], 0xff);
	assert_int_equal(nets[0].addr[11], 0xff);
}

static void test_range_worst_cases_and_errors(void **state)
{
	uint8_t f[16], l[16];
	struct asn_net nets[ASN_RANGE_MAX_NETS];
	v4("0.0.0.1", f);
	v4("255.255.255.254", l);
	assert_int_equal(asn_range_to_nets(f, l, 32, nets), 62);
	v6("::1", f);
	v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", l);
	assert_int_equal(asn_range_to_nets(f, l, 128, nets), 254);
	/* ::1/128 ::2/127 ... 4000::/2 | 8000::/2 ... fffe::/128-style tail */
	assert_int_equal(nets[0].plen, 128);
	assert_int_equal(nets[126].plen, 2);
	assert_int_equal(nets[127].plen, 2);
	assert_int_equal(nets[253].plen, 128);
	/* first > last, and a bad family width */
	v4("10.0.0.2", f);
	v4("10.0.0.1", l);
	assert_int_equal(asn_range_to_nets(f, l, 32, nets), -1);
	assert_int_equal(asn_range_to_nets(f, f, 64, nets), -1);
}

/* Random ranges: the networks are aligned, contiguous, in order, cover
 * exactly [first, last], and no two neighbours could be one network. */
static void test_range_random_cover(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct asn_net nets[ASN_RANGE_MAX_NETS];
	for (int iter = 0; iter < 20000; iter++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t a = (uint32_t)(seed >> 32);
		uint32_t span = (uint32_t)(seed >> 8) & ((1u << (iter % 24 + 1)) - 1);
		uint32_t b = a + span < a ? UINT32_MAX : a + span;
		uint8_t f[16] = { 0 }, l[16] = { 0 };
		for (int k = 0; k < 4; k++) {
			f[12 + k] = (uint8_t)(a >> (24 - 8 * k));
			l[12 + k] = (uint8_t)(b >> (24 - 8 * k));
		}
		int n = asn_range_to_nets(f, l, 32, nets);
		assert_true(n >= 1 && n <= 62);
		uint64_t next = a;
		for (int i = 0; i < n; i++) {
			uint32_t base = ((uint32_t)nets[i].addr[12] << 24) |
					((uint32_t)nets[i].addr[13] << 16) |
					((uint32_t)nets[i].addr[14] << 8) | nets[i].addr[15];
			uint64_t size = 1ull << (32 - nets[i].plen);
			assert_int_equal(base, next);
			assert_int_equal(base % size, 0);
			next = base + size;
			if (i > 0 && nets[i].plen == nets[i - 1].plen) {
				/* equal neighbours must not form an aligned pair */
				uint64_t prev = base - size;
				assert_true(prev % (2 * size) != 0);
			}
		}
		assert_int_equal(next, (uint64_t)b + 1);
	}
}

/* ---- privacy -------------------------------------------------------------- */

static void test_anonymize(void **state)
{
	struct ts_addr a = addr("198.18.1.77");
	anonymize_addr(&a);
	struct ts_addr want = addr("198.18.1.0");
	assert_memory_equal(a.a, want.a, 16);
	assert_int_equal(a.v4, 1);

	struct ts_addr m = addr("::ffff:10.1.2.3"); /* mapped, no flag */
	anonymize_addr(&m);
	want = addr("::ffff:10.1.2.0");
	assert_memory_equal(m.a, want.a, 16);

	struct ts_addr b = addr("2001:db8:abcd:1234:5678::9");
	anonymize_addr(&b);
	want = addr("2001:db8:abcd::");
	assert_memory_equal(b.a, want.a, 16);
	assert_int_equal(b.v4, 0);

	/* ::1 keeps only its (zero) /48 */
	struct ts_addr c = addr("::1");
	anonymize_addr(&c);
	want = addr("::");
	assert_memory_equal(c.a, want.a, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_ipv4_only_db),
		cmocka_unit_test(test_lookup_ipv6_aliased_db),
		cmocka_unit_test(test_lookup_ipv6_unaliased_db),
		cmocka_unit_test(test_ipv4_mapped_input),
		cmocka_unit_test(test_cache_counts),
		cmocka_unit_test(test_cache_slot_is_keyed),
		cmocka_unit_test(test_explicit_path_must_open),
		cmocka_unit_test(test_none_found_warns_and_goes_on),
		cmocka_unit_test(test_search_order),
		cmocka_unit_test(test_range_to_networks_vectors),
		cmocka_unit_test(test_range_worst_cases_and_errors),
		cmocka_unit_test(test_range_random_cover),
		cmocka_unit_test(test_anonymize),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* asn.h - enrichment: client and server addresses to autonomous system
 * number and organisation, from any MMDB with the GeoLite2-ASN fields
 * (autonomous_system_number, autonomous_system_organization): MaxMind
 * GeoLite2-ASN, DB-IP ASN lite, ip-location-db, or the default database
 * tamperscope builds from ip-location-db (tools/mkasn-mmdb.pl).
 *
 * Database search order (the first that exists is used):
 *   1. cfg->path (--asn-db FILE)              - must open, else an error
 *   2. $TAMPERSCOPE_ASN_DB                     - must open, else an error
 *   3. /usr/share/GeoIP/GeoLite2-ASN.mmdb
 *   4. /var/lib/GeoIP/GeoLite2-ASN.mmdb
 *   5. $TAMPERSCOPE_DATADIR/asn.mmdb           - a build tree or test data dir
 *   6. <dir of the binary>/../data/asn.mmdb    - only when the binary sits in
 *                                                 a directory named "src" (an
 *                                                 uninstalled build tree)
 *   7. TS_PKGDATADIR "/asn.mmdb"               - the installed default
 * With none, lookups answer ASN 0 "unknown" and asn_open leaves a warning
 * for the caller to print once.
 *
 * Lookups are cached per address (direct-mapped, fixed size: constant
 * memory and constant time per lookup whatever the traffic; the slot comes
 * from the keyed hash of htab.h, so a sender cannot pick addresses that
 * evict each other).  IPv4 is
 * looked up as IPv4 (AF_INET), also when it arrives IPv4-mapped
 * (::ffff:a.b.c.d), so IPv4-only databases and IPv6 databases with or
 * without the ::ffff:0:0/96 alias all answer.
 */
#ifndef TS_ASN_H
#define TS_ASN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

struct hseed;

#define ASN_UNKNOWN_ORG "unknown"
#define ASN_ORG_MAX 255           /* longer organisation names are cut */
#define ASN_CACHE_SLOTS 16384     /* power of two */
#define ASN_MAX_ORGS 200000       /* distinct organisation strings kept */

struct asn_cfg {
	const char *path;         /* --asn-db, NULL: search */
	bool disabled;            /* --no-asn-db: no database, no warning */
	const char *env_db;       /* getenv("TAMPERSCOPE_ASN_DB") or NULL */
	const char *env_datadir;  /* getenv("TAMPERSCOPE_DATADIR") or NULL */
	const char *exe_path;     /* the running binary (/proc/self/exe) or NULL */
	const char *pkgdatadir;   /* TS_PKGDATADIR or NULL */
	const struct hseed *seed; /* the start-up hash seed (copied); NULL: draw one */
};

/* Fill cfg from the environment and the build: env variables, the
 * binary's location and TS_PKGDATADIR.  path/disabled stay as given. */
void asn_cfg_from_env(struct asn_cfg *cfg);

struct asn_info {
	uint32_t asn;             /* 0: unknown */
	const char *org;          /* never NULL; valid until asn_close */
};

struct asn_stats {
	uint64_t lookups;
	uint64_t cache_hits;
	uint64_t found;
	uint64_t not_found;       /* no entry for the address */
	uint64_t errors;          /* libmaxminddb errors, bad data types */
	uint64_t orgs_dropped;    /* ASN_MAX_ORGS reached: org given as "unknown" */
};

struct asn_db;

/* Open the database per the search order.  Returns NULL only on a hard
 * error (an explicit path that does not open, out of memory) with err set.
 * Otherwise a handle, possibly without a database: then *warn holds the
 * one-line warning to print (warn[0] is '\0' when a database was found or
 * lookups were disabled). */
struct asn_db *asn_open(const struct asn_cfg *cfg, char *err, size_t errlen,
			char *warn, size_t warnlen);
void asn_close(struct asn_db *db);

/* The file in use, NULL without one; and its description for logs. */
const char *asn_path(const struct asn_db *db);
const struct asn_stats *asn_stats(const struct asn_db *db);

/* Look one address up.  Always fills out (ASN 0 "unknown" on a miss). */
void asn_lookup(struct asn_db *db, const struct ts_addr *a, struct asn_info *out);

/* `tamperscope asn [--asn-db FILE] [--no-asn-db] ADDRESS...`: print
 * "ADDRESS<TAB>ASN<TAB>ORGANISATION" per address, with the database the
 * analysis would use; argv[0] is "asn".  Returns the exit status: 0, 1
 * when an address is not an address or the database cannot be opened, 2
 * on bad usage. */
int asn_main(int argc, char **argv);

/* ---- helpers, exposed for tests and tools ------------------------------- */

/* True for an IPv4 address in either representation (v4 flag set, or an
 * IPv4-mapped ::ffff:a.b.c.d IPv6 address). */
bool asn_addr_is_v4(const struct ts_addr *a);

/* Privacy (--anonymize-clients): cut an address to its network, IPv4 to
 * the /24, IPv6 to the /48, in place.  Look the ASN up first. */
void anonymize_addr(struct ts_addr *a);

/* One CIDR network.  addr holds the network address in the 16-byte layout
 * of struct ts_addr (IPv4 in bytes 12..15); plen counts bits of the family
 * (0..32 for IPv4, 0..128 for IPv6). */
struct asn_net {
	uint8_t addr[16];
	uint8_t plen;
};

#define ASN_RANGE_MAX_NETS 254  /* 2 * 128 - 2: the worst case for IPv6 */

/* Cover the inclusive range [first, last] with the fewest CIDR networks,
 * in address order.  bits is 32 (IPv4, bytes 12..15 used) or 128.  Returns
 * the number written (at most ASN_RANGE_MAX_NETS, out must hold that many),
 * or -1 when bits is invalid or first > last. */
int asn_range_to_nets(const uint8_t first[16], const uint8_t last[16], int bits,
		      struct asn_net *out);

#endif

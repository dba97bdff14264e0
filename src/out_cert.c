/* out_cert.c - certificate chains, trust and interception attribution as JSON (event "tls" members, the
 * end-of-run consistency events and report entries), and the certificate counters. */
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "certstats.h"
#include "json.h"
#include "out_cert.h"
#include "tls.h"
#include "util.h"

/* ISO 8601 UTC with seconds, as certificates carry them: "2024-05-14T23:37:18Z". */
static void write_time(struct json *j, const char *key, int64_t t, bool ok)
{
	char buf[40];
	json_str(j, key, ok ? ts_format_utc_seconds(t, buf, sizeof(buf)) : NULL);
}

static void write_missing_ext(struct json *j, const struct cert_info *ci)
{
	if (ci->has_san && ci->has_key_usage && ci->has_aki)
		return;
	json_arr_open(j, "missing_extensions");
	if (!ci->has_san)
		json_str(j, NULL, "subjectAltName");
	if (!ci->has_key_usage)
		json_str(j, NULL, "keyUsage");
	if (!ci->has_aki)
		json_str(j, NULL, "authorityKeyIdentifier");
	json_arr_close(j);
}

/* "EC-256", or the type alone when the size is unknown.  Built by hand
 * (snprintf cost more than the rest of the certificate's members): the
 * type has at most 11 bytes and the size 10 digits, so nothing is cut. */
static void write_key(struct json *j, const struct cert_info *ci)
{
	char kbuf[32];
	size_t n = strnlen(ci->key_type, sizeof(ci->key_type));
	memcpy(kbuf, ci->key_type, n);
	if (ci->key_bits > 0) {
		char digits[12], *end = digits + sizeof(digits), *p = end;
		unsigned v = (unsigned)ci->key_bits;
		do {
			*--p = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		kbuf[n++] = '-';
		memcpy(kbuf + n, p, (size_t)(end - p));
		n += (size_t)(end - p);
	}
	json_strn(j, "key", kbuf, n);
	if (ci->rsa_exponent)
		json_uint(j, "rsa_exponent", ci->rsa_exponent);
}

static void write_cert(struct json *j, const struct cert_info *ci, bool leaf)
{
	json_obj_open(j, NULL);
	json_bool(j, "parsed", ci->parsed);
	json_str(j, "sha1", ci->sha1);
	json_str(j, "sha256", ci->sha256);
	if (!ci->parsed) {
		json_uint(j, "length", ci->der_len);
		json_obj_close(j);
		return;
	}
	json_str(j, "spki_sha256", ci->spki_sha256[0] ? ci->spki_sha256 : NULL);
	json_str(j, "subject", ci->subject);
	json_str(j, "issuer", ci->issuer);
	json_str(j, "serial", ci->serial);
	write_time(j, "not_before", ci->not_before, ci->times_ok);
	write_time(j, "not_after", ci->not_after, ci->times_ok);
	json_arr_open(j, "san");
	for (unsigned i = 0; i < ci->n_san; i++)
		json_strn(j, NULL, ci->san_buf + ci->san_off[i], ci->san_len[i]);
	json_arr_close(j);
	if (ci->san_total > ci->n_san)
		json_uint(j, "san_total", ci->san_total);
	write_key(j, ci);
	json_bool(j, "ca", ci->is_ca);
	json_uint(j, "version", ci->version);
	if (leaf)
		write_missing_ext(j, ci);
	json_obj_close(j);
}

static void write_errors(struct json *j, const struct cert_analysis *ca)
{
	json_arr_open(j, "trust_errors");
	for (unsigned i = 0; i < ca->n_errors; i++) {
		json_obj_open(j, NULL);
		json_int(j, "code", ca->errors[i].code);
		json_int(j, "depth", ca->errors[i].depth);
		json_str(j, "reason", cert_error_string(ca->errors[i].code));
		json_obj_close(j);
	}
	json_arr_close(j);
	if (ca->errors_dropped)
		json_bool(j, "trust_errors_truncated", true);
}

static void write_match(struct json *j, const struct cert_analysis *ca)
{
	json_str(j, "interception_ca", ca->interception_ca);
	json_str(j, "match", cert_match_name((enum cert_match)ca->match));
	if (ca->match == CERT_MATCH_NONE)
		return;
	json_uint(j, "match_cert", ca->match_cert);
	json_str(j, "match_field", ca->match_field);
	if (ca->match_prefix)
		json_bool(j, "match_prefix", true);
	json_double(j, "match_confidence", ca->match_confidence, 2);
}

/* ---- certificates already written -------------------------------------------------- */

/* A certificate's object is a function of its DER (and of being the leaf,
 * which adds missing_extensions), and a capture shows the same few
 * certificates again and again: the text written once is kept, by DER
 * digest, and copied.  Direct-mapped: a collision overwrites. */
#define CERT_MEMO_SLOTS 64

struct cert_memo_entry {
	char sha256[65];
	uint8_t leaf;
	size_t len;
	char *text;                   /* NULL: empty */
};

struct out_cert_memo {
	struct json scratch;
	struct cert_memo_entry e[CERT_MEMO_SLOTS];
};

struct out_cert_memo *out_cert_memo_new(void)
{
	struct out_cert_memo *m = calloc(1, sizeof(*m));
	if (m)
		json_init(&m->scratch);
	return m;
}

void out_cert_memo_free(struct out_cert_memo *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < CERT_MEMO_SLOTS; i++)
		free(m->e[i].text);
	json_free(&m->scratch);
	free(m);
}

static unsigned memo_slot(const char *hex, bool leaf)
{
	unsigned v = 0;
	for (int i = 0; i < 4 && hex[i]; i++) {
		int d = hex_digit((unsigned char)hex[i]);
		v = v * 16 + (unsigned)(d < 0 ? 0 : d);
	}
	return (v * 2 + leaf) % CERT_MEMO_SLOTS;
}

/* write_cert through the memo; without one (or when it cannot help) as
 * write_cert itself. */
static void write_cert_memo(struct json *j, const struct cert_info *ci, bool leaf,
			    struct out_cert_memo *m)
{
	if (!m || strnlen(ci->sha256, sizeof(ci->sha256)) != 64) {
		write_cert(j, ci, leaf);
		return;
	}
	struct cert_memo_entry *e = &m->e[memo_slot(ci->sha256, leaf)];
	if (!e->text || e->leaf != leaf || memcmp(e->sha256, ci->sha256, 64) != 0) {
		json_reset(&m->scratch);
		write_cert(&m->scratch, ci, leaf);
		char *t = m->scratch.oom ? NULL : realloc(e->text, m->scratch.len);
		if (!t) {
			write_cert(j, ci, leaf);
			return;
		}
		memcpy(t, m->scratch.buf, m->scratch.len);
		e->text = t;
		e->len = m->scratch.len;
		e->leaf = leaf;
		memcpy(e->sha256, ci->sha256, sizeof(e->sha256));
	}
	json_raw(j, NULL, e->text, e->len);
}

void out_cert_tls_members(struct json *j, const struct cert_analysis *ca, struct out_cert_memo *memo)
{
	char tbuf[40];
	bool visible = ca->trust != CERT_TRUST_NOT_VISIBLE;

	json_arr_open(j, "chain");
	for (unsigned i = 0; i < ca->n_chain && i < CERT_MAX_CHAIN; i++)
		write_cert_memo(j, &ca->chain[i], i == 0, memo);
	json_arr_close(j);
	json_bool(j, "chain_truncated", ca->chain_truncated);
	json_str(j, "trust", cert_trust_name((enum cert_trust)ca->trust));
	json_str(j, "trust_reason", ca->trust_reason);
	if (visible) {
		json_int(j, "trust_code", ca->trust_code);
		write_errors(j, ca);
		json_str(j, "validated_at", ts_format_time(ca->validated_at_us, tbuf, sizeof(tbuf)));
		if (ca->time_unchecked)
			json_bool(j, "time_checked", false);
		if (ca->removed_anchor) {
			json_obj_open(j, "removed_anchor");
			json_str(j, "label", ca->removed_anchor);
			json_str(j, "removed_on", ca->removed_date && ca->removed_date[0] ? ca->removed_date : NULL);
			json_obj_close(j);
		}
	} else {
		json_null(j, "trust_code");
	}
	json_str(j, "name_check", cert_name_check_name((enum cert_name_check)ca->name_check));
	write_match(j, ca);
	json_arr_open(j, "forgery_hints");
	for (unsigned h = 0; h < CERT_HINT__COUNT; h++)
		if (ca->hints & (1u << h))
			json_str(j, NULL, cert_hint_name((enum cert_hint)h));
	json_arr_close(j);
}

/* ---- end of run ------------------------------------------------------------------------------------------------ */

static void write_hello(struct json *j, const struct certstats_finding *f)
{
	char v1[16], v2[16];
	json_bool(j, "serverhello_differs", f->hello_differs);
	if (!f->hello_differs)
		return;
	json_str(j, "ja3s_here", f->ja3s_here);
	json_str(j, "version_here", tls_version_name(f->version_here, v1, sizeof(v1)));
	json_str(j, "ja3s_elsewhere", f->ja3s_elsewhere);
	json_str(j, "version_elsewhere", tls_version_name(f->version_elsewhere, v2, sizeof(v2)));
}

void out_cert_finding_members(struct json *j, const struct certstats_finding *f)
{
	json_str(j, "verdict", f->inconsistent ? "tls_mitm" : NULL);
	json_str(j, "match", f->inconsistent ? "inconsistent" : NULL);
	json_double(j, "confidence", f->confidence, 2);
	json_uint(j, "flows", f->flows);
	json_uint(j, "flows_trusted", f->flows_trusted);
	json_uint(j, "flows_untrusted", f->flows_untrusted);
	json_uint(j, "flows_not_visible", f->flows_not_visible);
	json_uint(j, "flows_inconsistent", f->flows_inconsistent);
	json_uint(j, "flows_interception_ca", f->flows_interception_ca);
	json_uint(j, "flows_relabel", f->flows_relabel);
	json_uint(j, "flows_trusted_elsewhere", f->flows_trusted_elsewhere);
	json_uint(j, "networks_trusted_elsewhere", f->networks_trusted_elsewhere);
	json_str(j, "issuer_here", f->issuer_here);
	json_str(j, "issuer_elsewhere", f->issuer_elsewhere);
	write_hello(j, f);
	json_arr_open(j, "flow_ids");
	for (uint32_t i = 0; i < f->n_flow_ids; i++)
		json_uint(j, NULL, f->flow_ids[i]);
	json_arr_close(j);
	json_bool(j, "flow_ids_truncated", f->flow_ids_cut);
}

void out_cert_consistency_event(struct json *j, const struct certstats_finding *f, uint64_t ts_us)
{
	char tbuf[40];
	json_obj_open(j, NULL);
	json_str(j, "timestamp", ts_format_time(ts_us, tbuf, sizeof(tbuf)));
	json_str(j, "event_type", "tls_consistency");
	json_strn(j, "sni", f->sni, f->sni_len);
	json_uint(j, "client_asn", f->asn);
	out_cert_finding_members(j, f);
	json_obj_close(j);
}

static void finding_element(void *arg, const struct certstats_finding *f)
{
	struct json *j = arg;
	json_obj_open(j, NULL);
	json_strn(j, "sni", f->sni, f->sni_len);
	json_uint(j, "client_asn", f->asn);
	out_cert_finding_members(j, f);
	json_obj_close(j);
}

void out_cert_consistency_array(struct json *j, const char *key, const struct certstats *cs)
{
	json_arr_open(j, key);
	certstats_foreach(cs, true, finding_element, j);
	json_arr_close(j);
}

static void line(FILE *out, const char *what, uint64_t n)
{
	if (n)
		fprintf(out, "tamperscope:   %-44s %llu\n", what, (unsigned long long)n);
}

void out_cert_print_stats(FILE *out, const struct cert_stats *st, const struct certstats_stats *cst)
{
	if (st) {
		fprintf(out, "tamperscope: certificates: %llu chains (%llu trusted, %llu untrusted), %llu not visible, "
			"%llu interception-CA matches (%llu by fingerprint, %llu by name)\n",
			(unsigned long long)st->chains, (unsigned long long)st->trusted,
			(unsigned long long)st->untrusted, (unsigned long long)st->not_visible,
			(unsigned long long)(st->match_fingerprint + st->match_name),
			(unsigned long long)st->match_fingerprint, (unsigned long long)st->match_name);
		line(out, "certificates that do not parse", st->certs_unparsed);
		line(out, "chains over 16 certificates or cut", st->chains_truncated);
		line(out, "names cut at 255 bytes", st->names_cut);
		line(out, "serials cut at 32 bytes", st->serials_cut);
		line(out, "SAN DNS names not kept (16 per certificate)", st->san_dropped);
		line(out, "verification errors not kept (8 per chain)", st->errors_dropped);
		line(out, "chains not verified (out of memory)", st->verify_failed);
		line(out, "chains not verified (unsupported signature algorithm)", st->unsupported_alg);
		line(out, "chains trusted by a root since removed from the store", st->removed_anchor_trusted);
		line(out, "chains whose anchor at the packet's time is unknown", st->unknown_anchor);
		line(out, "chains validated without time checks (capture clock not set)", st->time_unchecked);
		line(out, "names not remembered for hints (memory full)", st->mem_names_dropped);
		line(out, "leaf certificates not remembered (4 per name)", st->mem_variants_dropped);
		if (st->cache_hits + st->cache_misses)
			fprintf(out, "tamperscope:   caches: certificates %llu hits, %llu misses, %llu evicted; "
				"verifications %llu hits, %llu misses, %llu evicted\n",
				(unsigned long long)st->cache_hits, (unsigned long long)st->cache_misses,
				(unsigned long long)st->cache_evicted, (unsigned long long)st->vcache_hits,
				(unsigned long long)st->vcache_misses, (unsigned long long)st->vcache_evicted);
		line(out, "certificates not cached (index window full)", st->cache_refused);
		line(out, "verifications not cached (index window full)", st->vcache_refused);
	}
	if (cst) {
		line(out, "consistency: flows without SNI (not grouped)", cst->flows_no_sni);
		line(out, "consistency: flows of pairs over the cap", cst->pairs_dropped);
		line(out, "consistency: chains over 4 per pair", cst->variants_dropped);
		line(out, "consistency: ServerHellos over 4 per pair", cst->hellos_dropped);
		line(out, "consistency: flow ids not listed (16 per pair)", cst->flow_ids_dropped);
	}
}

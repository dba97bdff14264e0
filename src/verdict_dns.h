/* verdict_dns.h - the verdict of a finished DNS transaction (dnstxn.h).
 *
 * ==== Rules (in this order; the first that applies wins) ====
 *
 *  T = the stall timeout (--stall-timeout, 3 s): also the window in which
 *  a transaction collects responses.  "Differ": two responses whose rcode,
 *  address set (in any order) or first CNAME target are not the same.
 *
 *  incomplete     no response, and less than T of packet time passed after
 *                 the query before the input ended or the table was full
 *                 (reason capture_ended).
 *  dns_timeout    no response within T while the same resolver answered
 *                 other queries in the capture (it was up and in view).
 *  incomplete     no response, and the resolver answered nothing else
 *                 (reason resolver_silent: down, or a capture of one
 *                 direction; one_direction=true).
 *  dns_injection  two or more responses that differ, the first unlike the
 *                 last (the resolver's own, which an on-path injector can
 *                 only race, never suppress) in IP TTL (injected_reasons
 *                 ttl), in IPv4 ID by more than 1000 (ipid), or, when the
 *                 query was sent once, in the answer's DNS TTL (dns_ttl).
 *                 Responses that differ with no such sign are two answers
 *                 of the resolver itself (a retransmitted query answered
 *                 twice by a load-balanced resolver): not injection.
 *                 Every response is listed in the dns object; "forged"
 *                 marks those unlike the last one.
 *  dns_blockpage  the response (the first one) answers with an address or
 *                 CNAME target of a known blockpage (--blockpages;
 *                 evidence.blockpage), or with a bogon (private,
 *                 loopback, link-local, unspecified; reason bogon) for a
 *                 public name (one whose top label is not a reserved or
 *                 local one: example, test, invalid, localhost, local,
 *                 lan, home, internal, corp, arpa, ...).
 *  dns_error      rcode NXDOMAIN, SERVFAIL or REFUSED (a failure; the
 *                 report calls it blocking only across networks).
 *  ok             otherwise.
 *
 *  ooni_failure: dns_timeout generic_timeout_error; dns_error
 *  dns_nxdomain_error, dns_refused_error, else dns_server_misbehaving;
 *  a bogon answer dns_bogon_error; other forged answers null (the lookup
 *  succeeded).  Signature: none (UDP).  History: D query, d response.
 */
#ifndef TS_VERDICT_DNS_H
#define TS_VERDICT_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "dnstxn.h"
#include "verdict.h"

struct blockpages;

void verdict_dns_decide(const struct verdict_cfg *cfg, const struct blockpages *bp,
			const struct dns_txn *t, enum dnstxn_end why, uint64_t now_us,
			struct verdict_result *r);

/* Is a an address no public name resolves to (RFC 6890 special-purpose:
 * private, loopback, link-local, unspecified, ULA)? */
bool dns_addr_is_bogon(const struct ts_addr *a);
/* Is the (text, lower-case) name a public one: dotted, and its top label
 * not reserved (RFC 2606, RFC 6761) or a customary local one? */
bool dns_name_is_public(const char *name);

#endif

/* verdict_http.h - the verdict of a TCP flow whose client spoke plain
 * HTTP/1.x (http.h), after the TCP rules (verdict.h) have run.
 *
 * ==== Rules (in this order; the first that applies wins) ====
 *
 *  Only flows whose request line was parsed change, and not those the TCP
 *  rules called incomplete for lost data (kernel_loss, server_gap).
 *  T = the stall timeout.  "The request" = the time its head was whole.
 *
 *  http_blockpage  a response matches a known blockpage (--blockpages): the
 *                  server address, or a Location / Server / other header /
 *                  body pattern (reason blockpage_fingerprint,
 *                  evidence.blockpage).
 *  http_blockpage  a response that another box sent (reason injected;
 *                  injected_reasons): its IP TTL unlike the server's
 *                  SYN-ACK (ttl), its IPv4 ID more than 1000 from the
 *                  SYN-ACK's (ipid), it arrived sooner after the request
 *                  than 3/4 of the handshake round trip (timing: no real
 *                  server could have answered; rtt >= 1 ms, vantage not
 *                  server), or a second response from another sender
 *                  followed it (race: the server's own answer, which the
 *                  injector could only beat).
 *  ok              any other response.
 *  http_reset      no response, and a RST claiming to come from the server
 *                  arrived after the request (the RST evidence of
 *                  tls_reset, injected_reasons included); a server FIN
 *                  without a response likewise (server_fin, eof_error).
 *  client_abort    the client closed less than T after the request
 *                  without retransmitting it.
 *  http_stall      no response for T after the request by the end time,
 *                  or the client gave up after retransmitting it.
 *  incomplete      otherwise (capture_ended).
 *
 *  ooni_failure: http_reset connection_reset (eof_error for server_fin),
 *  http_stall generic_timeout_error, http_blockpage null (OONI reads a
 *  block page as an HTTP body difference, not a failure).
 */
#ifndef TS_VERDICT_HTTP_H
#define TS_VERDICT_HTTP_H

#include "flow.h"
#include "verdict.h"

struct blockpages;
struct http_info;

/* Refine vr, the TCP verdict of flow f (with f->http), by the rules above. */
void verdict_http_apply(const struct verdict_cfg *cfg, const struct blockpages *bp,
			const struct flow *f, uint64_t now_us, struct verdict_result *vr);

#endif

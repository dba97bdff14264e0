/* verdict_quic.h - the interference verdict of a finished QUIC flow
 * (RFC 9000 sections 7 and 17.2, RFC 9002 section 6.2: what a client does
 * when its Initials go unanswered), from the facts quic.h collected.
 *
 * Everything runs on packet time, as for TCP (verdict.h): now_us is the
 * packet clock when the flow was finalised.
 *
 * ==== QUIC verdict rules (checked in this order; the first that applies wins) ====
 *
 *  T = the stall timeout (--stall-timeout, default 3 s).  The attempt: the
 *  client's Initials from its first one, or from its first after a Retry or
 *  a Version Negotiation (which restart the handshake).  An answer: any
 *  server packet of the attempt other than Retry and VN.
 *
 *  ok          the server answered and the client went on with Handshake
 *              or 1-RTT packets: it got the server's Initial and its keys
 *              worked (the observer's view of "acknowledged": the client's
 *              ACKs themselves are encrypted).
 *  not_tls     no client Initial could be opened: its version is not one
 *              tamperscope opens (reason quic_version_unknown: reported,
 *              not decrypted), or it did not decrypt (quic_undecryptable);
 *              the flow keeps its quic object, with sni null.
 *  incomplete  kernel_loss; midstream (no client Initial in the capture);
 *              one_direction (the client went on past its Initials, so it
 *              heard the server, but the capture holds nothing from the
 *              server); handshake_not_confirmed (the server answered, the
 *              client was not seen going on); version_negotiation (the
 *              server answered with VN and the client made no new attempt).
 *  client_abort the client closed (CONNECTION_CLOSE in an Initial) less
 *              than T into the attempt without retransmitting: nothing
 *              could be expected to answer yet.  Never interference.
 *  quic_stall  no answer, T elapsed by the end time (the packet clock), and
 *              the client retransmitted (an Initial repeating CRYPTO bytes,
 *              or a probe) or closed after retransmitting.  A client that
 *              hears nothing retransmits within one PTO (about 1 s, RFC 9002
 *              section 6.2.2); that repetition is the client's own word that
 *              nothing came, where TCP has the server's SYN-ACK to show that
 *              the reverse direction is captured at all.
 *  incomplete  no_retransmission (T of silence but the client never
 *              repeated itself: the capture may hold only its first flight)
 *              or capture_ended (less than T).
 *
 *  drop_direction (quic_stall): unknown - on the client's side of the
 *  censor a dropped Initial and a dropped answer look the same, and nothing
 *  of the server is seen.  With --vantage=server the Initials reached the
 *  server's side: a server that never answers them is incomplete
 *  (server_silent), as over TCP.  No handshake to time: the vantage is the
 *  given one, else unknown.
 *  silence_ms: from the attempt's first Initial to the answer, or to the end
 *  time.  Evidence "end": client_close / server_close (a CONNECTION_CLOSE in
 *  an Initial), else how the flow ended (idle_timeout, end_of_input, ...).
 *  History (Zeek's, for UDP): D client payload, d server payload.
 */
#ifndef TS_VERDICT_QUIC_H
#define TS_VERDICT_QUIC_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "verdict.h"

struct quic_info;

struct verdict_quic_input {
	const struct quic_info *q;
	enum flow_end why;
	uint64_t now_us;               /* packet clock at finalisation */
	bool kernel_loss;
	uint32_t pkts[2];              /* the flow's packets per direction */
};

void verdict_quic_decide(const struct verdict_cfg *cfg, const struct verdict_quic_input *in,
			 struct verdict_result *r);

#endif

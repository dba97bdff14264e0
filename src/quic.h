/* quic.h - the QUIC stage: what a UDP flow's QUIC packets show before
 * encryption takes over.  Follows RFC 9000 sections 17.2 (long headers),
 * 17.2.1 (Version Negotiation), 17.2.2 (Initial), 17.2.5 (Retry), 12.2
 * (coalesced packets), 14.1 (Initial datagram size), 19 (the frames of the
 * Initial space: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE) and A.3
 * (packet number decoding); RFC 9001 section 5 for the protection
 * (quic_keys.h) and RFC 9369 for v2.
 *
 * Per flow, while the handshake is open: both directions' CRYPTO streams
 * reassembled (reasm.h: out of order, overlaps compared, bounded), the
 * first handshake message of each given to the TLS hello parser (tls.h:
 * the ClientHello's SNI, ALPN, versions, JA3, JA4 with its 'q' prefix; the
 * ServerHello's version, cipher, JA3S), and the facts the QUIC verdict
 * reads (verdict_quic.h).  Certificates travel in Handshake packets, whose
 * keys come from the TLS exchange: never visible here.
 *
 * Nothing here prints or stops the program; every cap has a counter in
 * struct quic_stats, and a packet cut by the capture (truncated) is a
 * different counted outcome from one whose fields contradict themselves
 * (malformed).
 */
#ifndef TS_QUIC_H
#define TS_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

#define QUIC_MAX_VN 8              /* versions kept from a Version Negotiation */
#define QUIC_CRYPTO_LIMIT 16384    /* CRYPTO bytes reassembled per direction */
#define QUIC_MAX_COALESCED 8       /* packets read from one datagram */
#define QUIC_MAX_OPENED 32         /* Initial packets decrypted per flow */
#define QUIC_MAX_DERIVES 4         /* Initial key derivations per flow */
#define QUIC_MAX_HS_PACKETS 64     /* packets a flow's handshake region may take */

struct quic_stats {
	uint64_t datagrams;            /* UDP payloads of QUIC flows read */
	uint64_t flows;                /* UDP flows recognised as QUIC */
	uint64_t initials_opened;      /* Initial packets decrypted */
	uint64_t decrypt_failed;       /* Initial packets whose AEAD tag failed */
	uint64_t unknown_version;      /* long headers of a version not opened */
	uint64_t truncated;            /* packets cut short by the capture */
	uint64_t malformed;            /* packets or frames contradicting themselves */
	uint64_t coalesced_cap;        /* datagrams holding more than QUIC_MAX_COALESCED packets */
	uint64_t opened_cap;           /* Initials left closed: QUIC_MAX_OPENED reached */
	uint64_t derive_cap;           /* Initials left closed: QUIC_MAX_DERIVES reached */
	uint64_t region_cap;           /* flows whose handshake region ended by QUIC_MAX_HS_PACKETS */
	uint64_t crypto_beyond_limit;  /* CRYPTO frames (partly) past QUIC_CRYPTO_LIMIT */
	uint64_t crypto_dropped;       /* CRYPTO frames refused by the reassembly's interval cap */
	uint64_t crypto_overlap_diffs; /* CRYPTO frames overlapping held bytes with other bytes */
	uint64_t hello_too_big;        /* first handshake message longer than the limit */
	uint64_t hello_errors;         /* hellos the TLS parser rejected */
	uint64_t retries;              /* Retry packets */
	uint64_t version_negotiations; /* Version Negotiation packets */
	uint64_t alloc_failed;
};

/* What a QUIC flow showed; read by its verdict and its record, lives until
 * the flow's event is written.  Times are packet times (0: never). */
struct quic_info {
	struct tls_info tls;           /* the hellos from the CRYPTO streams */
	uint32_t version;              /* of the client's first long header */
	uint32_t version_server;       /* of the server's first Initial/Handshake: negotiated */
	uint32_t vn_versions[QUIC_MAX_VN]; /* offered by the server's Version Negotiation */
	uint8_t n_vn;
	uint8_t opened;                /* some client Initial was decrypted */
	uint8_t retry, vn;             /* the server sent a Retry / Version Negotiation */
	uint8_t client_close, server_close; /* CONNECTION_CLOSE in an Initial */
	uint8_t dcids;                 /* distinct DCIDs among client Initials (saturates) */
	uint8_t crypto_gap[2];         /* a hole left in a CRYPTO stream */
	uint8_t hello_error[2];        /* the first handshake message did not parse */
	uint16_t initials[2];          /* Initial packets per direction */
	uint16_t retransmits;          /* client Initials with nothing new (CRYPTO repeated, or a probe) */
	uint16_t handshake[2];         /* Handshake packets per direction */
	uint16_t short_hdr[2];         /* 1-RTT packets per direction */
	uint16_t zero_rtt;             /* client 0-RTT packets */
	uint16_t decrypt_failed, truncated, malformed, unknown_version;
	uint32_t padding;              /* PADDING bytes in the client's Initials */
	uint64_t t_first;              /* the client's first Initial */
	uint64_t t_anchor;             /* ... of the current attempt (after a Retry or VN) */
	uint64_t t_last_client;        /* the client's last packet */
	uint64_t t_answer;             /* first server packet of the attempt (not Retry/VN) */
	uint64_t t_client_hs;          /* the client's first Handshake or 1-RTT packet */
	uint64_t t_vn;                 /* the server's Version Negotiation */
};

struct quic_stage;
struct quic_flow;

struct quic_stage *quic_stage_new(void);
void quic_stage_free(struct quic_stage *qs);
const struct quic_stats *quic_stage_stats(const struct quic_stage *qs);

/* Could this UDP payload open a QUIC connection: a long header with the
 * fixed bit, connection IDs of at most 20 bytes and either a version the
 * stage opens or a datagram of at least 1200 bytes (RFC 9000 section
 * 14.1)?  A cheap test on the first bytes: no flow state is made for other
 * UDP traffic. */
bool quic_candidate(const uint8_t *p, size_t len);

/* Things one datagram showed (bits of quic_datagram's result). */
enum {
	QUIC_EV_CLIENT_INITIAL = 0x01, /* the first client Initial of an attempt */
	QUIC_EV_ANSWER = 0x02,         /* the server answered the attempt */
	QUIC_EV_CONFIRMED = 0x04,      /* the client went on past its Initials */
	QUIC_EV_HELLO = 0x08,          /* the ClientHello was read */
};

/* One UDP payload of a QUIC flow.  *qfp is created on the first call (NULL
 * stays NULL when out of memory, counted).  dir: 0 client to server, 1
 * back.  cut: the capture's snap length cut the payload.  Returns QUIC_EV_*. */
unsigned quic_datagram(struct quic_stage *qs, struct quic_flow **qfp, const uint8_t *p,
		       size_t len, bool cut, int dir, uint64_t ts_us);

/* The handshake region is over (confirmed, or its packet cap reached): the
 * reassembly and keys are freed and later packets need not be read. */
bool quic_finished(const struct quic_flow *qf);

/* The flow's facts (NULL for NULL). */
const struct quic_info *quic_flow_info(const struct quic_flow *qf);

/* Free everything (at flow end, after the flow's record was written). */
void quic_flow_free(struct quic_flow *qf);

#endif

/* tls_hello.h - the ClientHello, ServerHello and Certificate parsers.
 *
 * The record layer (tls.c) reassembles one complete handshake message and
 * hands its body (after the 4-byte header) here; unit tests and fuzzers
 * call the same entry points directly.  Results go into struct tls_info.
 */
#ifndef TS_TLS_HELLO_H
#define TS_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_info.h"

/* Parse a complete ClientHello / ServerHello body (after the 4-byte
 * handshake header). */
bool tls_parse_client_hello(const uint8_t *body, size_t len, struct tls_info *info);
bool tls_parse_server_hello(const uint8_t *body, size_t len, struct tls_info *info);

/* ServerHello body.  *is_hrr says whether it was a HelloRetryRequest, after
 * which the real ServerHello still follows in clear. */
bool tls_hello_parse_server_hello(const uint8_t *body, size_t len,
				  struct tls_info *info, bool *is_hrr);

/* Certificate body (TLS <= 1.2).  Certificates copied before a false
 * return stay in info: a forged leaf is still evidence. */
bool tls_hello_parse_certificate(const uint8_t *body, size_t len,
				 struct tls_info *info);

#endif

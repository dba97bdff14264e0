/* tls_hello.h - internal interface between the TLS record layer (tls.c)
 * and the hello/Certificate parsers (tls_hello.c).
 *
 * The record layer reassembles one complete handshake message and hands
 * its body (after the 4-byte header) here.  tls_parse_client_hello and
 * tls_parse_server_hello in tls.h are the public entry points; these are
 * what the record layer needs beyond them.
 */
#ifndef TS_TLS_HELLO_H
#define TS_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

/* ServerHello body.  *is_hrr says whether it was a HelloRetryRequest, after
 * which the real ServerHello still follows in clear. */
bool tls_hello_parse_server_hello(const uint8_t *body, size_t len,
				  struct tls_info *info, bool *is_hrr);

/* Certificate body (TLS <= 1.2).  Certificates copied before a false
 * return stay in info: a forged leaf is still evidence. */
bool tls_hello_parse_certificate(const uint8_t *body, size_t len,
				 struct tls_info *info);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* QUIC client Initial packets (RFC 9000, 9001, 9369; draft-29): decrypt, collect CRYPTO, SNI/ALPN.
 */
#ifndef CG_DPI_QUIC_H
#define CG_DPI_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dpi/tls.h"

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu /* RFC 9369 */
#define QUIC_DRAFT29 0xff00001du
#define QUIC_CID_MAX 20
#define QUIC_CRYPTO_MAX 65536 /* CRYPTO stream bytes collected per connection */
/*
 * CRYPTO bytes are kept only this far past the contiguous prefix, so what is
 * allocated follows what was received (a frame at offset 65000 would
 * otherwise cost 72 KiB). Six full Initial packets of reordering fit.
 */
#define QUIC_CRYPTO_WINDOW 8192

/* Client Initial packet protection keys (AES-128-GCM, AES-128 header protection). */
struct quic_keys {
	uint8_t key[16], iv[12], hp[16];
};

enum quic_outcome {
	QUIC_OK = 0, /* the ClientHello is complete: *hello written */
	QUIC_MORE,   /* Initial decrypted, the ClientHello needs CRYPTO data of later packets */
	QUIC_NOT_INITIAL,	  /* short header, version negotiation, 0-RTT, Handshake or Retry */
	QUIC_UNSUPPORTED_VERSION, /* a long header of a version other than v1, v2, draft-29 */
	QUIC_MALFORMED,		  /* header fields disagree with the datagram (CID > 20, lengths) */
	QUIC_DECRYPT_FAILED,	  /* the AEAD tag did not verify (e.g. a server Initial) */
	QUIC_BAD_FRAME, /* a frame that cannot be parsed or skipped; earlier frames kept */
	QUIC_BAD_HELLO, /* the CRYPTO stream is not a valid ClientHello */
	QUIC_TOO_BIG,	/* CRYPTO data beyond QUIC_CRYPTO_MAX */
	QUIC_DONE,	/* this connection's ClientHello was already reported (or failed) */
	/* CRYPTO bytes QUIC_CRYPTO_WINDOW or more past the contiguous prefix: refused */
	QUIC_FAR_CRYPTO,
};

const char *quic_outcome_str(enum quic_outcome oc);

/* True for the versions whose Initial packets can be opened. */
bool quic_version_supported(uint32_t version);

/*
 * Derive the client Initial keys of a version from the client's first
 * Destination Connection ID (RFC 9001 5.2, RFC 9369 3.3). Returns 0,
 * -EINVAL (unsupported version, dcid_len > QUIC_CID_MAX) or -EIO (OpenSSL).
 * *keys is written only on success; the caller should wipe it after use.
 */
int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
		      struct quic_keys *keys);

/*
 * The client side of one QUIC connection (one UDP flow): the keys of the
 * original DCID and the CRYPTO stream collected so far, out of order, first
 * data wins. Holds no reference to fed datagrams.
 */
struct quic_conn;

/* A new connection, or NULL with errno = ENOMEM. Release with quic_conn_free(). */
struct quic_conn *quic_conn_new(void);

/* Wipes the keys, frees the buffers; NULL is allowed. */
void quic_conn_free(struct quic_conn *c);

/*
 * Bytes of heap c holds now (the connection and its CRYPTO buffers), for
 * memory budgets; 0 for NULL.
 */
size_t quic_conn_mem(const struct quic_conn *c);

/*
 * Feed one client-to-server UDP payload (coalesced packets are walked; only
 * Initial packets are opened). Returns QUIC_OK once, with *hello written,
 * when the ClientHello completes; QUIC_MORE while it is incomplete; an
 * error outcome for a datagram that did not help (QUIC_DECRYPT_FAILED,
 * QUIC_NOT_INITIAL, QUIC_FAR_CRYPTO, ...; the connection continues); QUIC_BAD_HELLO or
 * QUIC_TOO_BIG once as final outcomes; then QUIC_DONE for every later call.
 * A datagram whose Initial has another DCID and fails with the current keys
 * is retried with keys from its own DCID (Retry or a new connection on the
 * same ports); on success the CRYPTO data collected so far is dropped.
 */
enum quic_outcome quic_conn_feed(struct quic_conn *c, const uint8_t *dgram, size_t len,
				 struct tls_hello *hello);

#endif

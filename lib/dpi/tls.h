/* SPDX-License-Identifier: GPL-2.0 */
/* TLS ClientHello: SNI and ALPN from a client-to-server TCP stream or a raw handshake message. */
#ifndef CG_DPI_TLS_H
#define CG_DPI_TLS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_SNI_MAX 255	     /* server_name host_name bytes kept (longer: refused, sni "") */
#define TLS_ALPN_MAX 8	     /* ALPN protocol names kept; later ones are dropped */
#define TLS_ALPN_NAME_MAX 64 /* bytes per ALPN name with the NUL; longer names are dropped */
#define TLS_HELLO_MAX 65536  /* cap on the handshake message (4-byte header + body) */

/*
 * What a ClientHello said. Strings are NUL-terminated printable ASCII: any
 * other byte is replaced by '?' (the output is JSON text). sni is "" when
 * the hello has no server_name extension.
 */
struct tls_hello {
	char sni[TLS_SNI_MAX + 1];
	unsigned int nalpn;
	char alpn[TLS_ALPN_MAX][TLS_ALPN_NAME_MAX];
};

enum tls_outcome {
	TLS_OK = 0,    /* a complete ClientHello: *hello written */
	TLS_MORE,      /* consistent so far, needs more bytes */
	TLS_NOT_HELLO, /* not a TLS handshake record, or the first message is not a ClientHello */
	TLS_MALFORMED, /* a length field disagrees with the bytes around it */
	TLS_TOO_BIG,   /* the ClientHello is larger than TLS_HELLO_MAX */
	TLS_GAP,       /* bytes were lost before the ClientHello was complete: no SNI */
	TLS_DONE,      /* a final outcome was already returned; input is ignored */
};

/* Constant name of an outcome ("ok", "more", ...), for logs and counters. */
const char *tls_outcome_str(enum tls_outcome oc);

/*
 * Parse one handshake message (type 1 ClientHello, 3-byte length, body) from
 * msg[0..len). Used for TCP after record reassembly and for QUIC CRYPTO data.
 * Returns TLS_OK (and writes *hello), TLS_MORE when msg is a consistent
 * prefix, TLS_NOT_HELLO, TLS_MALFORMED or TLS_TOO_BIG. Bytes after the
 * message are ignored.
 */
enum tls_outcome tls_client_hello_parse(const uint8_t *msg, size_t len, struct tls_hello *hello);

/*
 * The client-to-server byte stream of one TCP connection. Records
 * (type 22, any 3.x version) are reassembled across segments and records
 * into a buffer of at most TLS_HELLO_MAX bytes, allocated on first use.
 */
struct tls_stream;

/* A new stream parser, or NULL with errno = ENOMEM. Release with tls_stream_free(). */
struct tls_stream *tls_stream_new(void);

/* Frees the stream and its buffer; NULL is allowed. */
void tls_stream_free(struct tls_stream *s);

/* Bytes of heap s holds now (with its buffer), for memory budgets; 0 for NULL. */
size_t tls_stream_mem(const struct tls_stream *s);

/*
 * Feed the next in-order stream bytes. Returns TLS_MORE until a final
 * outcome: TLS_OK once (with *hello written), or an error outcome once, and
 * TLS_DONE for every call after that. The buffer is released at the final
 * outcome. Allocation failure is reported as TLS_TOO_BIG.
 */
enum tls_outcome tls_stream_feed(struct tls_stream *s, const uint8_t *data, size_t len,
				 struct tls_hello *hello);

/*
 * Bytes were lost in the stream. Returns TLS_GAP if the ClientHello was not
 * complete (the stream stops: a partial hello is never reported), else
 * TLS_DONE.
 */
enum tls_outcome tls_stream_gap(struct tls_stream *s);

#endif

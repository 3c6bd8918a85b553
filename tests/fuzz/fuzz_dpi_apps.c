// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness: the application parsers (HTTP, DNS, TLS, QUIC) over one input, split in two.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/dpi/dns.h"
#include "lib/dpi/http.h"
#include "lib/dpi/quic.h"
#include "lib/dpi/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_http(void *ctx, const struct http_event *ev)
{
	size_t *n = ctx;

	*n += strlen(ev->method) + strlen(ev->host) + strlen(ev->uri);
}

static void on_dns(void *ctx, enum dns_outcome oc, const struct dns_msg *m)
{
	size_t *n = ctx;

	if (oc == DNS_OK)
		*n += strlen(m->name) + m->nanswers;
}

/*
 * Seal p[0..len) as the payload of a v1 client Initial (DCID 8 bytes of 0x11,
 * packet number pn), so the fuzzer reaches frame parsing and CRYPTO
 * reassembly behind the AEAD. Returns the packet length, 0 if it does not fit.
 */
static size_t seal_initial(const uint8_t *p, size_t len, uint8_t pn, uint8_t *out, size_t max)
{
	static const uint8_t dcid[8] = { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 };
	uint8_t nonce[12], mask[16], pad[4] = { 0 };
	EVP_CIPHER_CTX *ctx = NULL;
	struct quic_keys k;
	size_t o = 0, pn_off, ret = 0;
	int outl;

	if (len < 4) {
		p = pad; /* the sample needs 4 + 16 bytes after the packet number */
		len = sizeof(pad);
	}
	if (len > 1200 || 20 + len + 16 > max || quic_initial_keys(QUIC_V1, dcid, 8, &k))
		return 0;
	out[o++] = 0xc0; /* Initial, 1-byte packet number */
	memcpy(out + o, "\x00\x00\x00\x01", 4);
	o += 4;
	out[o++] = 8;
	memcpy(out + o, dcid, 8);
	o += 8;
	out[o++] = 0; /* scid */
	out[o++] = 0; /* token */
	out[o++] = (uint8_t)(0x40 | ((1 + len + 16) >> 8));
	out[o++] = (uint8_t)(1 + len + 16);
	pn_off = o;
	out[o++] = pn;
	memcpy(nonce, k.iv, 12);
	nonce[11] ^= pn;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k.key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &outl, out, (int)o) != 1 ||
	    EVP_EncryptUpdate(ctx, out + o, &outl, p, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + o + len, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + o + len) != 1)
		goto out;
	o += len + 16;
	EVP_CIPHER_CTX_free(ctx);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k.hp, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, mask, &outl, out + pn_off + 4, 16) != 1)
		goto out;
	out[0] ^= mask[0] & 0x0f;
	out[pn_off] ^= mask[1];
	ret = o;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/*
 * data[0] picks the split point of the rest (a/b) and a few modes; every
 * parser sees a and b as consecutive stream pieces, or as two datagrams.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_msg msg;
	static uint8_t pkt[1400];
	const uint8_t *a, *b;
	struct http_conn *hc;
	struct tls_stream *ts;
	struct quic_conn *qc;
	struct dns_tcp *dt;
	struct tls_hello h;
	size_t la, lb, n = 0, m;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	a = data + 1;
	la = (size - 1) * sel / 255;
	b = a + la;
	lb = size - 1 - la;

	/* DNS: the whole rest as a datagram, then as a TCP stream in two pieces */
	dns_parse(a, la + lb, &msg);
	dt = dns_tcp_new(on_dns, &n);
	if (dt) {
		dns_tcp_feed(dt, a, la);
		if (sel & 1)
			dns_tcp_gap(dt);
		dns_tcp_feed(dt, b, lb);
		dns_tcp_free(dt);
	}

	/* TLS: a handshake message, then a record stream in two pieces */
	tls_client_hello_parse(a, la + lb, &h);
	ts = tls_stream_new();
	if (ts) {
		tls_stream_feed(ts, a, la, &h);
		if (sel & 2)
			tls_stream_gap(ts);
		tls_stream_feed(ts, b, lb, &h);
		tls_stream_free(ts);
	}

	/* HTTP: a and b on one direction (with a gap between if sel & 4), or on both */
	hc = http_conn_new(on_http, &n);
	if (hc) {
		http_conn_feed(hc, 0, a, la, 1);
		if (sel & 4)
			http_conn_gap(hc, 0, sel & 8 ? 0 : lb / 2);
		http_conn_feed(hc, sel & 16 ? 1 : 0, b, lb, 2);
		http_conn_end(hc);
		http_conn_free(hc);
	}

	/* QUIC: raw datagrams, then a and b sealed as two Initials of one connection */
	qc = quic_conn_new();
	if (qc) {
		quic_conn_feed(qc, a, la, &h);
		quic_conn_feed(qc, b, lb, &h);
		quic_conn_free(qc);
	}
	qc = quic_conn_new();
	if (qc) {
		m = seal_initial(sel & 32 ? b : a, sel & 32 ? lb : la, 0, pkt, sizeof(pkt));
		if (m)
			quic_conn_feed(qc, pkt, m, &h);
		m = seal_initial(sel & 32 ? a : b, sel & 32 ? la : lb, 1, pkt, sizeof(pkt));
		if (m)
			quic_conn_feed(qc, pkt, m, &h);
		quic_conn_free(qc);
	}
	return n == (size_t)-1;
}

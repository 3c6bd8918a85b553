// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for CSR parsing (ca_csr_parse): PEM or DER bytes from a device or a token. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "lib/auth/ca.h"
#include "lib/auth/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What parses has a key capgate takes and a self-signature that verifies, and survives DER. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *der = NULL;
	X509_REQ *req, *again;
	char err[512], why[128];
	int n;

	req = ca_csr_parse(data, size, err, sizeof(err));
	if (!req)
		return 0;
	if (!tls_key_ok(X509_REQ_get0_pubkey(req), why, sizeof(why)))
		abort();
	n = i2d_X509_REQ(req, &der);
	if (n <= 0)
		abort();
	/* Re-encoded DER of an accepted CSR is accepted too (OpenSSL keeps the signed bytes). */
	again = ca_csr_parse(der, (size_t)n, err, sizeof(err));
	if (!again)
		abort();
	X509_REQ_free(again);
	OPENSSL_free(der);
	X509_REQ_free(req);
	return 0;
}

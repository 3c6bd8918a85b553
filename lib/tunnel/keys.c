// SPDX-License-Identifier: GPL-2.0
/* Session keys: split the TLS exporter output, derive one AEAD key per direction (libsodium KDF).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "lib/tunnel/keys.h"

_Static_assert(sizeof(CG_KDF_CONTEXT) - 1 == crypto_kdf_CONTEXTBYTES, "kdf context");
_Static_assert(crypto_kdf_KEYBYTES == 32, "kdf key");

int keys_derive(const uint8_t material[CG_EXPORTER_LEN], struct session_keys *out)
{
	struct session_keys k;
	uint8_t aead[crypto_kdf_KEYBYTES];
	int ret = 0;

	if (!material || !out)
		return -EINVAL;
	memcpy(k.c2s_mac, material, 16);
	memcpy(k.s2c_mac, material + 16, 16);
	memcpy(aead, material + 32, sizeof(aead));
	if (crypto_kdf_derive_from_key(k.aead_c2s, sizeof(k.aead_c2s), CG_KDF_ID_C2S,
				       CG_KDF_CONTEXT, aead) ||
	    crypto_kdf_derive_from_key(k.aead_s2c, sizeof(k.aead_s2c), CG_KDF_ID_S2C,
				       CG_KDF_CONTEXT, aead)) {
		ret = -EIO;
		goto out;
	}
	*out = k;
out:
	sodium_memzero(aead, sizeof(aead));
	sodium_memzero(&k, sizeof(k));
	return ret;
}

void keys_exporter_context(uint32_t session_id, uint8_t ctx[CG_EXPORTER_CTX_LEN])
{
	ctx[0] = (uint8_t)(session_id >> 24);
	ctx[1] = (uint8_t)(session_id >> 16);
	ctx[2] = (uint8_t)(session_id >> 8);
	ctx[3] = (uint8_t)session_id;
}

int keys_export(SSL *ssl, uint32_t session_id, struct session_keys *out)
{
	uint8_t material[CG_EXPORTER_LEN];
	uint8_t ctx[CG_EXPORTER_CTX_LEN];
	int ret;

	if (!ssl || !out)
		return -EINVAL;
	keys_exporter_context(session_id, ctx);
	if (SSL_export_keying_material(ssl, material, sizeof(material), CG_EXPORTER_LABEL,
				       strlen(CG_EXPORTER_LABEL), ctx, sizeof(ctx), 1) != 1) {
		ret = -EIO;
		goto out;
	}
	ret = keys_derive(material, out);
out:
	sodium_memzero(material, sizeof(material));
	return ret;
}

void keys_wipe(struct session_keys *k)
{
	if (k)
		sodium_memzero(k, sizeof(*k));
}

// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for the privilege boundary: authw_msg_check/authw_reply_check on any datagram.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth/privsep.h"
#include "lib/auth/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum authw_conn_state st;
	union authw_msg m;
	uint32_t type = 0;
	size_t i;

	/* An accepted datagram has a known type and exactly its size. */
	if (!authw_msg_check(data, size, &type)) {
		if (type == 0 || type >= AUTHW_GRANT || size > sizeof(m))
			abort();
		memcpy(&m, data, size);
		/* The identity the parent then trusts: names, counts in range. */
		if (type == AUTHW_SESSION_REQUEST &&
		    (!memchr(m.req.id.device, 0, sizeof(m.req.id.device)) ||
		     !memchr(m.req.id.app, 0, sizeof(m.req.id.app)) ||
		     !proto_name_ok(m.req.id.device) ||
		     (m.req.id.app[0] && !proto_name_ok(m.req.id.app)) ||
		     m.req.id.ngroups > CG_CERT_GROUPS_MAX || m.req.id.serial_len < 1 ||
		     m.req.id.serial_len > CG_SERIAL_MAX || !proto_offer_ok(&m.req.offer)))
			abort();
		for (i = 0; type == AUTHW_SESSION_REQUEST && i < m.req.id.ngroups; i++)
			if (!memchr(m.req.id.groups[i], 0, CG_NAME_MAX) ||
			    !proto_name_ok(m.req.id.groups[i]))
				abort();
		/* An enroll the parent takes: a token token_parse accepts, one PEM CSR block. */
		if (type == AUTHW_ENROLL_REQUEST &&
		    (!memchr(m.enroll.token, 0, sizeof(m.enroll.token)) ||
		     strlen(m.enroll.token) != TOKEN_STR_LEN ||
		     !proto_pem_ok(m.enroll.csr, sizeof(m.enroll.csr), "CERTIFICATE REQUEST")))
			abort();
	}
	type = 0;
	if (!authw_reply_check(data, size, &type)) {
		if (type < AUTHW_GRANT || size > sizeof(m))
			abort();
		memcpy(&m, data, size);
		if (type == AUTHW_GRANT &&
		    (m.grant.nscopes > CG_MAX_SCOPES ||
		     (m.grant.mode ? !cipher_name(m.grant.cipher) : m.grant.cipher != 0)))
			abort();
		if (type == AUTHW_ENROLLED &&
		    (m.enrolled.status >= AUTHW_E_MAX ||
		     !memchr(m.enrolled.cert, 0, sizeof(m.enrolled.cert)) ||
		     (m.enrolled.status == AUTHW_E_OK) != (m.enrolled.cert[0] != 0)))
			abort();
	}
	/* The state machine never leaves its states, whatever the sequence. */
	st = AUTHW_CS_NEW;
	for (i = 0; i < size; i++) {
		authw_conn_step(&st, data[i] & 0x80 ? 0x80u + (data[i] & 7u) : data[i] & 7u);
		if (st > AUTHW_CS_DONE)
			abort();
	}
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* capgate enroll: a key born on the device, a CSR, a one-time token, the certificate back. */
#ifndef CG_AGENT_ENROLL_H
#define CG_AGENT_ENROLL_H

#include <limits.h>
#include <stdint.h>

#include "lib/auth/ca.h"
#include "lib/auth/identity.h"

struct enroll_cfg {
	const char *gateway;	   /* the gateway's IP address (its certificate's IP SAN) */
	uint16_t port;		   /* TLS auth port (8443) */
	uint16_t spa_port;	   /* SPA port (62201) */
	const char *token;	   /* cg1.<id>.<secret>.<ca hash> (lib/auth/token.h) */
	const char *dir;	   /* where the key and certificates go (made 0700 if absent) */
	enum ca_key_type key_type; /* the device's key */
	uint64_t timeout_ns;	   /* connect + handshake + answer; 0 = 10 s */
};

/* What enrollment wrote. */
struct enroll_result {
	struct identity id;	 /* the certificate's identity (device, app, groups) */
	char uri[512];		 /* its SPIFFE ID */
	char key_path[PATH_MAX]; /* DIR/KEYNAME.key (0600) */
	char cert_path[PATH_MAX];
	char ca_path[PATH_MAX]; /* DIR/ca.crt: the CA the token named */
};

/*
 * Makes the private key (DIR/.enroll-<id>.key, 0600, O_EXCL: it never leaves
 * the device) and a CSR for it, sends the token's SPA packet (CGSPT1), then
 * authc_enroll: the gateway must prove the token's CA before the token is
 * sent. On success the key becomes DIR/KEYNAME.key, the certificate
 * DIR/KEYNAME.crt (KEYNAME from the certificate: DEVICE or DEVICE@APP) and
 * the pinned CA DIR/ca.crt (an existing one must be the same CA); none of
 * them may exist already. Returns 0 and *res, or -errno with a reason in err
 * (-EACCES: the gateway is not the token's, or refused, with its reason).
 * Without a certificate nothing is left behind; if the certificate came but
 * could not be installed, err names the files that hold it and the key.
 */
int agent_enroll(const struct enroll_cfg *cfg, struct enroll_result *res, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* A small Ed25519 CA: the gateway's and devices' certificates, made with OpenSSL's API. */
#ifndef CG_AUTH_CA_H
#define CG_AUTH_CA_H

#include <stdbool.h>
#include <stddef.h>

#define CA_NAME_MAX 64	   /* device names: 1..63 of [A-Za-z0-9_.-] */
#define CA_GW_NAME_MAX 254 /* gateway DNS name: 1..253 of [A-Za-z0-9.-] */
#define CA_MAX_IPS 16
#define CA_DAYS 3650	 /* CA: from 1 day back to 10 years ahead */
#define CA_LEAF_DAYS 730 /* gateway and devices: 1 day back to 2 years ahead */

enum ca_flags {
	CA_FORCE = 1U << 0, /* replace existing files instead of refusing */
};

/*
 * Makes dir (0700 if it does not exist) and writes dir/ca.crt, ca.key,
 * gateway.crt and gateway.key. The CA is self-signed (basicConstraints
 * CA:TRUE critical, keyUsage keyCertSign cRLSign); the gateway certificate
 * has CN=gw_name, subjectAltName DNS:gw_name and IP:ips[i], extendedKeyUsage
 * serverAuth. Keys are Ed25519, files 0600 created with O_EXCL: an existing
 * file is refused (-EEXIST) unless CA_FORCE. Returns 0 or -errno with a
 * reason in err; on failure no new file is left behind.
 */
int ca_init(const char *dir, const char *gw_name, const char *const *ips, size_t nips, char *err,
	    size_t errlen);
int ca_init_flags(const char *dir, const char *gw_name, const char *const *ips, size_t nips,
		  unsigned int flags, char *err, size_t errlen);

/*
 * Writes dir/device.crt and dir/device.key signed by dir/ca.crt + ca.key:
 * CN=device, extendedKeyUsage clientAuth. device must be 1..63 of
 * [A-Za-z0-9_.-] and not "ca" or "gateway". Returns 0 or -errno as above.
 */
int ca_issue(const char *dir, const char *device, char *err, size_t errlen);
int ca_issue_flags(const char *dir, const char *device, unsigned int flags, char *err,
		   size_t errlen);

/* True if name is a valid device name (1..63 of [A-Za-z0-9_.-]). */
bool ca_device_name_ok(const char *name);

#endif

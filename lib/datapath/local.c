// SPDX-License-Identifier: GPL-2.0
/* The gateway's own addresses in the gate_local map (abi/gate.h). */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "abi/gate.h"
#include "lib/base/addr.h"
#include "lib/datapath/local.h"

static bool listed(uint8_t (*addrs)[16], size_t n, const uint8_t a[16])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!memcmp(addrs[i], a, 16))
			return true;
	return false;
}

/* The addresses of every interface, each once, into addrs[0..*n). */
static int local_addrs(uint8_t (*addrs)[16], size_t max, size_t *n)
{
	struct ifaddrs *ifa, *i;
	uint8_t a[16];
	int err = 0;

	if (getifaddrs(&ifa))
		return -errno;
	*n = 0;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || addr_sockaddr_mapped(i->ifa_addr, a))
			continue;
		if (listed(addrs, *n, a))
			continue;
		if (*n == max) {
			err = -E2BIG;
			break;
		}
		memcpy(addrs[(*n)++], a, 16);
	}
	freeifaddrs(ifa);
	return err;
}

int local_addrs_sync(int fd, const uint8_t (*extra)[16], size_t nextra)
{
	uint8_t addrs[CG_LOCAL_MAX][16], stale[CG_LOCAL_MAX][16], key[16], next[16];
	size_t n = 0, nstale = 0, i;
	uint32_t one = 1;
	void *prev = NULL;
	int err, r;

	r = local_addrs(addrs, CG_LOCAL_MAX, &n);
	if (r && r != -E2BIG)
		return r;
	for (i = 0; !r && i < nextra; i++) {
		if (listed(addrs, n, extra[i]))
			continue;
		if (n == CG_LOCAL_MAX)
			r = -E2BIG;
		else
			memcpy(addrs[n++], extra[i], 16);
	}
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, addrs[i], &one, BPF_ANY))
			return -errno;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		if (!listed(addrs, n, next) && nstale < CG_LOCAL_MAX)
			memcpy(stale[nstale++], next, 16);
		memcpy(key, next, 16);
		prev = key;
	}
	for (i = 0; i < nstale; i++) {
		err = bpf_map_delete_elem(fd, stale[i]);
		if (err && errno != ENOENT)
			return -errno;
	}
	return r ? r : (int)n;
}

// SPDX-License-Identifier: GPL-2.0
/* For the net tests: how many slots of a pinned tun_sessions map hold a session. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "lib/datapath/sessmap.h"

int main(int argc, char **argv)
{
	int fd, n;

	if (argc != 2) {
		fprintf(stderr, "usage: sessmap_count PINNED_MAP\n");
		return 2;
	}
	fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "sessmap_count: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	n = sessmap_count(fd);
	if (n < 0) {
		fprintf(stderr, "sessmap_count: %s: %s\n", argv[1], strerror(-n));
		return 1;
	}
	printf("%d\n", n);
	return 0;
}

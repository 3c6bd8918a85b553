// SPDX-License-Identifier: GPL-2.0
/* capgate demo: runs the narrated namespace demo (demo/demo.sh) with this binary. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/capgate/cmd.h"

#ifndef CG_SRCDIR
#define CG_SRCDIR "/usr/share/capgate"
#endif

/*
 * The demo is a shell script: it drives ip(8), namespaces and clients, which
 * reads better as the commands a user would type than as C. It is found
 * beside the binary's source tree (CG_SRCDIR) or in CAPGATE_DEMO.
 */
int cmd_demo(int argc, char **argv, const struct cg_global *g)
{
	char self[PATH_MAX], script[PATH_MAX];
	const char *env = getenv("CAPGATE_DEMO");
	ssize_t n;

	(void)g;
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fprintf(stderr, "usage: capgate demo\n\n"
				"Builds client, gateway and server network namespaces, runs the "
				"gateway and shows,\nstep by step, what it lets through; cleans "
				"up everything on exit or Ctrl-C. Needs root.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "capgate demo: unexpected argument \"%s\"\n", argv[1]);
		return 2;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		fprintf(stderr, "capgate demo: /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	snprintf(script, sizeof(script), "%s", env && *env ? env : CG_SRCDIR "/demo/demo.sh");
	setenv("CAPGATE", self, 1);
	execl("/bin/bash", "bash", script, (char *)NULL);
	fprintf(stderr, "capgate demo: cannot run %s: %s\n", script, strerror(errno));
	return 1;
}

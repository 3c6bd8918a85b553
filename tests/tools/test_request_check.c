// SPDX-License-Identifier: GPL-2.0
/*
 * For the net tests: what the worker's request table of the production build
 * (tests/tools link build/obj, without CG_TESTING) says of AUTHW_TEST_SYSCALL.
 * Prints authw_reply_check's result: -22 (-EINVAL, a type it does not know).
 */
#include <stdio.h>

#include "lib/auth/privsep.h"

int main(void)
{
	struct authw_test_syscall t = { .type = AUTHW_TEST_SYSCALL };
	uint32_t type;

	printf("%d\n", authw_reply_check(&t, sizeof(t), &type));
	return 0;
}

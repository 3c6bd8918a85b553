// SPDX-License-Identifier: GPL-2.0
/* The auth worker's sandbox: resource limits, an empty root, a seccomp allow-list. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "lib/auth/sandbox.h"

/* Any directory will do: the tmpfs on it is seen only in the worker's own mount namespace. */
#define EMPTY_MOUNT_POINT "/tmp"

/* VmData of this process in bytes, or 0 if unknown. */
static uint64_t data_now(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmData: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

static int limit(int res, uint64_t v)
{
	struct rlimit r = { .rlim_cur = v, .rlim_max = v };

	return setrlimit(res, &r) ? -errno : 0;
}

int sandbox_rlimits(uint64_t nofile, uint64_t data_budget)
{
	uint64_t data = data_now();
	int err;

	if (!data)
		return -EIO;
	if ((err = limit(RLIMIT_CORE, 0)) || (err = limit(RLIMIT_FSIZE, 0)) ||
	    (err = limit(RLIMIT_NOFILE, nofile)) || (err = limit(RLIMIT_DATA, data + data_budget)))
		return err;
	return 0;
}

int sandbox_empty_root(void)
{
	/* Nothing of ours may propagate back to the host's mounts. */
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (mount("capgate-empty", EMPTY_MOUNT_POINT, "tmpfs",
		  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2,mode=0555"))
		return -errno;
	/* pivot_root(".", "."): the old root lands on top of the new one, then goes. */
	if (chdir(EMPTY_MOUNT_POINT) || syscall(SYS_pivot_root, ".", ".") ||
	    umount2(".", MNT_DETACH) || chdir("/"))
		return -errno;
	return 0;
}

/*
 * What the worker calls once it serves, seen with strace in the ASan+UBSan
 * and the production builds: its poll loop, accept4 and the clients' socket
 * I/O (OpenSSL's socket BIO reads and writes), send/recv on the parent's
 * sockets (sendto/recvfrom; sendmsg/recvmsg where libc uses them), its log
 * lines (write), malloc (brk, mmap, ...; never executable), time (syscalls
 * where the vDSO is missing) and getrandom; getpid (OpenSSL's fork check).
 * Signals: rt_sigreturn, and what abort() needs to signal itself, so an
 * assertion still shows as SIGABRT.
 */
static const int allowed[] = {
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(close),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(accept4),
	SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendto),
	SCMP_SYS(sendmsg),
	SCMP_SYS(setsockopt),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(time),
	SCMP_SYS(getrandom),
	SCMP_SYS(futex),
	SCMP_SYS(brk),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
};

int sandbox_seccomp(void)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	size_t i;
	int err = 0;

	if (!f)
		return -ENOMEM;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !err; i++)
		if (allowed[i] >= 0) /* < 0: not a system call on this architecture */
			err = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
	/* Memory, never executable: no new code can be mapped in. */
	if (!err)
		err = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!err)
		err = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* abort(): a signal to itself only. */
	if (!err)
		err = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/*
	 * A library may try a file (a sanitizer's report reads /proc/self/maps):
	 * refused cleanly, as OpenSSH's filter does. There is nothing to open anyway.
	 */
	if (!err && SCMP_SYS(open) >= 0)
		err = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	if (!err)
		err = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	if (!err)
		err = seccomp_load(f);
	seccomp_release(f);
	return err;
}

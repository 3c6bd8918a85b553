// SPDX-License-Identifier: GPL-2.0
/* capgate lb (the built binary) against a real API server over stub operations. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/api/api.h"
#include "tests/lib/lb_stub.h"
#include "tests/lib/t.h"

#ifndef CG_SRCDIR
#define CG_SRCDIR "."
#endif

#define CAPGATE CG_SRCDIR "/build/capgate"

extern char **environ;

static const char list_text[] =
	"web  10.10.2.100 tcp/80  nat dnat  health http GET /healthz  no_backend 3  flows_full 0\n"
	"  BACKEND        STATE    WEIGHT    FLOWS NEW_FLOWS      PACKETS          BYTES  HEALTH\n"
	"  10.10.2.2:80   up            1        4        10          120           9000  ok 0.4s "
	"ago\n"
	"  [fd00:2::3]:80 down          2        0         7           70           4200  "
	"bad_status 503 12s ago\n"
	"\n"
	"dns  fd00:2::53 udp/53  nat full  health none  no_backend 0  flows_full 1\n"
	"  no backends\n";

static char tmpdir[64], api_addr[128];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The whole of file path (NUL-terminated) into buf. */
static void slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

struct run {
	int rc; /* exit status, or -1 */
	char out[4096], err[1024];
};

/*
 * Runs capgate --api API ARGS with stdout and stderr to files, serving the
 * API from this thread (as the daemon's loop does) until it exits.
 */
static bool run(struct api *a, struct run *r, const char *const *args)
{
	char out[96], err[96];
	const char *argv[16] = { CAPGATE, "--api", api_addr };
	posix_spawn_file_actions_t fa;
	int64_t deadline = now_ms() + 10000;
	size_t i;
	pid_t pid;
	int st = 0, w = 0;

	for (i = 0; args[i] && i + 4 < sizeof(argv) / sizeof(argv[0]); i++)
		argv[3 + i] = args[i];
	snprintf(out, sizeof(out), "%s/out", tmpdir);
	snprintf(err, sizeof(err), "%s/err", tmpdir);
	r->rc = -1;
	if (posix_spawn_file_actions_init(&fa))
		return false;
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (posix_spawn(&pid, CAPGATE, &fa, NULL, (char *const *)argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		return false;
	}
	posix_spawn_file_actions_destroy(&fa);
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline) {
		struct pollfd p = { .fd = api_fd(a), .events = POLLIN };

		poll(&p, 1, 20);
		api_process(a);
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return false;
	}
	if (WIFEXITED(st))
		r->rc = WEXITSTATUS(st);
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
	return true;
}

static const struct {
	const char *args[8];
	int ret; /* the stub's */
	int rc;
	const char *out, *err;	/* exact; NULL: not checked */
	const char *svc, *addr; /* the operation's, NULL: none called */
	int weight, drain;	/* the added weight or the patch's; -1: not in the patch */
} cases[] = {
	{ { "lb", "add", "web", "10.10.2.5:80", "weight", "2" },
	  0,
	  0,
	  "added backend 10.10.2.5:80 of web: up, weight 2, 0 flows\n",
	  "",
	  "web",
	  "10.10.2.5:80",
	  2,
	  -1 },
	{ { "lb", "add", "web", "[FD00:2::5]:80" },
	  0,
	  0,
	  "added backend [fd00:2::5]:80 of web: up, weight 1, 0 flows\n",
	  "",
	  "web",
	  "[fd00:2::5]:80",
	  1,
	  -1 },
	{ { "lb", "add", "web", "10.10.2.5:80", "weight", "0", "-j" },
	  0,
	  0,
	  "{\"address\":\"10.10.2.5:80\",\"state\":\"up\",\"weight\":0,\"flows\":0}\n",
	  "",
	  "web",
	  "10.10.2.5:80",
	  0,
	  -1 },
	{ { "lb", "drain", "web", "[fd00:2::2]:80" },
	  0,
	  0,
	  "drained backend [fd00:2::2]:80 of web: draining, weight 1, 0 flows\n",
	  "",
	  "web",
	  "[fd00:2::2]:80",
	  -1,
	  1 },
	{ { "lb", "undrain", "web", "10.10.2.2:80" },
	  0,
	  0,
	  "undrained backend 10.10.2.2:80 of web: up, weight 1, 0 flows\n",
	  "",
	  "web",
	  "10.10.2.2:80",
	  -1,
	  0 },
	{ { "lb", "weight", "web", "[fd00:2::2]:8080", "100" },
	  0,
	  0,
	  "set backend [fd00:2::2]:8080 of web: up, weight 100, 0 flows\n",
	  "",
	  "web",
	  "[fd00:2::2]:8080",
	  100,
	  -1 },
	{ { "lb", "del", "web", "[fd00:2::2]:80" },
	  0,
	  0,
	  "removed backend [fd00:2::2]:80 from web (no new flows; its flows go on until they "
	  "end)\n",
	  "",
	  "web",
	  "[fd00:2::2]:80",
	  -1,
	  -1 },
	{ { "lb", "-j", "delete", "web", "10.10.2.2:80" },
	  0,
	  0,
	  "",
	  "",
	  "web",
	  "10.10.2.2:80",
	  -1,
	  -1 },
	/* the API refuses: its reason printed, exit 1 */
	{ { "lb", "add", "db", "10.10.2.5:80" },
	  -ENOENT,
	  1,
	  "",
	  "capgate: no balanced service db\n",
	  "db",
	  "10.10.2.5:80",
	  1,
	  -1 },
	{ { "lb", "drain", "web", "10.10.2.9:80" },
	  -ENOENT,
	  1,
	  "",
	  "capgate: balanced service web has no backend 10.10.2.9:80\n",
	  "web",
	  "10.10.2.9:80",
	  -1,
	  1 },
	{ { "lb", "del", "web", "10.10.2.2:80" },
	  -EIO,
	  1,
	  "",
	  "capgate: could not save state: removing the backend failed, nothing was changed (see "
	  "the gateway's log)\n",
	  "web",
	  "10.10.2.2:80",
	  -1,
	  -1 },
	/* refused before any request: exit 2 */
	{ { "lb", "add", "web", "10.10.2.5:80", "weight", "101" },
	  0,
	  2,
	  "",
	  "capgate: bad weight \"101\": want 0..100\n",
	  NULL,
	  NULL,
	  0,
	  0 },
	{ { "lb", "weight", "web", "10.10.2.5:80", "-1" }, 0, 2, "", NULL, NULL, NULL, 0, 0 },
	{ { "lb", "add", "web", "10.10.2.5:80@2" },
	  0,
	  2,
	  "",
	  "capgate: bad backend \"10.10.2.5:80@2\": a weight is not taken here (give it as: weight "
	  "W)\n",
	  NULL,
	  NULL,
	  0,
	  0 },
	{ { "lb", "add", "web", "fd00:2::5:80" },
	  0,
	  2,
	  "",
	  "capgate: bad backend \"fd00:2::5:80\": expected ADDR:PORT (IPv6 as [ADDR]:PORT)\n",
	  NULL,
	  NULL,
	  0,
	  0 },
	{ { "lb", "del", "web", "10.10.2.5:0" },
	  0,
	  2,
	  "",
	  "capgate: bad backend \"10.10.2.5:0\": the port must be 1..65535\n",
	  NULL,
	  NULL,
	  0,
	  0 },
	{ { "lb", "drain", "a/b", "10.10.2.5:80" },
	  0,
	  2,
	  "",
	  "capgate: bad service name \"a/b\": 1..63 of A-Z a-z 0-9 _ . -\n",
	  NULL,
	  NULL,
	  0,
	  0 },
	{ { "lb", "add", "web", "10.10.2.5:80", "wieght", "2" }, 0, 2, "", NULL, NULL, NULL, 0, 0 },
	{ { "lb", "weight", "web", "10.10.2.5:80" }, 0, 2, "", NULL, NULL, NULL, 0, 0 },
	{ { "lb", "frob" }, 0, 2, "", NULL, NULL, NULL, 0, 0 },
	{ { "lb" }, 0, 2, "", NULL, NULL, NULL, 0, 0 },
};

static void test_cli(void)
{
	struct lb_stub st = { 0 };
	struct api *a = NULL;
	char err[512] = "", addr[LB_BE_STRLEN], name[256];
	struct run *r = calloc(1, sizeof(*r));
	size_t i, k;

	if (access(CAPGATE, X_OK)) {
		T_SKIP("build/capgate is not built (make all)");
		goto out;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_lb_cli.XXXXXX");
	if (!ASSERT_TRUE(r && mkdtemp(tmpdir), "mkdtemp"))
		goto out;
	snprintf(api_addr, sizeof(api_addr), "unix:%s/api.sock", tmpdir);
	a = api_new(&lb_stub_ops, (struct gateway *)&st, &(struct api_conf){ .addr = api_addr },
		    err, sizeof(err));
	if (!ASSERT_TRUE(a != NULL, err))
		goto out;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		name[0] = '\0';
		for (k = 0; cases[i].args[k]; k++)
			snprintf(name + strlen(name), sizeof(name) - strlen(name), " %s",
				 cases[i].args[k]);
		st = (struct lb_stub){ .ret = cases[i].ret };
		if (!ASSERT_TRUE(run(a, r, cases[i].args), name))
			continue;
		ASSERT_EQ(r->rc, cases[i].rc, name);
		if (cases[i].out)
			ASSERT_STREQ(r->out, cases[i].out, name);
		if (cases[i].err)
			ASSERT_STREQ(r->err, cases[i].err, name);
		else
			ASSERT_TRUE(r->err[0] != '\0', "a reason on stderr");
		ASSERT_EQ(st.calls, cases[i].svc != NULL,
			  cases[i].svc ? name : "refused before any request");
		if (!cases[i].svc || !st.calls)
			continue;
		ASSERT_STREQ(st.svc, cases[i].svc, name);
		lb_be_format(&st.be, addr, sizeof(addr));
		ASSERT_STREQ(addr, cases[i].addr, name);
		if (!strcmp(cases[i].args[1], "add")) {
			ASSERT_EQ(st.be.weight, cases[i].weight, name);
			continue;
		}
		ASSERT_EQ(st.patch.has_weight, cases[i].weight >= 0, name);
		ASSERT_EQ(st.patch.weight, cases[i].weight >= 0 ? cases[i].weight : 0, name);
		ASSERT_EQ(st.patch.has_drain, cases[i].drain >= 0, name);
		ASSERT_EQ(st.patch.drain, cases[i].drain == 1, name);
	}

	/* list: the table, and -j (after the command or global) the JSON as the API sent it */
	if (ASSERT_TRUE(run(a, r, (const char *const[]){ "lb", "list", NULL }), "list")) {
		ASSERT_EQ(r->rc, 0, "list");
		ASSERT_STREQ(r->out, list_text, "list table");
	}
	if (ASSERT_TRUE(run(a, r, (const char *const[]){ "lb", "list", "-j", NULL }), "list -j")) {
		json_t *want = json_loads(LB_STUB_LIST, 0, NULL),
		       *got = json_loads(r->out, 0, NULL);

		ASSERT_EQ(r->rc, 0, "list -j");
		ASSERT_TRUE(json_equal(want, got), "list -j: the API's JSON");
		json_decref(want);
		json_decref(got);
	}
	if (ASSERT_TRUE(run(a, r, (const char *const[]){ "-j", "lb", "list", NULL }), "-j lb list"))
		ASSERT_TRUE(r->out[0] == '{', "global -j");
	if (ASSERT_TRUE(run(a, r, (const char *const[]){ "lb", "--help", NULL }), "--help")) {
		ASSERT_EQ(r->rc, 0, "--help exits 0");
		ASSERT_TRUE(strstr(r->err, "capgate lb drain|undrain NAME ADDR:PORT") != NULL,
			    "--help: the usage");
	}
	ASSERT_EQ(st.calls, 0, "list and help change nothing");
out:
	api_free(a);
	if (tmpdir[0]) {
		char p[96];

		snprintf(p, sizeof(p), "%s/out", tmpdir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/err", tmpdir);
		unlink(p);
		rmdir(tmpdir);
	}
	free(r);
}

T_MAIN(T_CASE(test_cli))

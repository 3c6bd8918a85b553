// SPDX-License-Identifier: GPL-2.0
/* capgate dpi: analyze a capture file or a live interface; JSON lines out (lib/dpi does the work).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/capgate/cmd.h"
#include "lib/base/parse_num.h"
#include "lib/dpi/dpi.h"
#include "lib/dpi/input.h"
#include "lib/dpi/out.h"

#define DPI_USAGE "capgate dpi (-r FILE | -i IFACE) [OPTIONS]"

enum {
	OPT_SUMMARY = 256,
	OPT_MAX_FLOWS,
	OPT_MAX_BUFFER,
	OPT_MAX_TOTAL,
	OPT_TCP_IDLE,
	OPT_UDP_IDLE,
	OPT_MAX_DGRAMS,
	OPT_MAX_FRAGS,
	OPT_FRAG_TIMEOUT,
	OPT_NO_APPS,
	OPT_USER,
	OPT_MAX_PARSER_MEM,
};

struct dpi_cli {
	struct input_opts in;
	const char *outfile;
	const char *user;
	unsigned int out_flags;
	struct dpi_opts d;
};

static const struct cg_opt dpi_table[] = {
	{ "read", 'r', required_argument, "FILE", "read a pcap or pcapng file ('-' for stdin)" },
	{ "interface", 'i', required_argument, "IFACE", "capture live on IFACE" },
	{ "filter", 'f', required_argument, "EXPR", "BPF filter (tcpdump syntax)" },
	{ "write", 'w', required_argument, "OUT", "write packets that passed the filter to OUT" },
	{ "output", 'o', required_argument, "FILE", "write JSON lines to FILE instead of stdout" },
	{ "summary", OPT_SUMMARY, no_argument, NULL, "print only the summary line" },
	{ "quiet", 'q', no_argument, NULL, "print nothing but errors" },
	{ "max-flows", OPT_MAX_FLOWS, required_argument, "N", "flows at once (262144)" },
	{ "max-buffer", OPT_MAX_BUFFER, required_argument, "BYTES",
	  "out-of-order TCP bytes per direction (1048576)" },
	{ "max-total-buffer", OPT_MAX_TOTAL, required_argument, "BYTES",
	  "out-of-order TCP bytes in all (268435456)" },
	{ "tcp-idle", OPT_TCP_IDLE, required_argument, "DUR", "TCP idle timeout (300s)" },
	{ "udp-idle", OPT_UDP_IDLE, required_argument, "DUR", "UDP/ICMP idle timeout (60s)" },
	{ "max-datagrams", OPT_MAX_DGRAMS, required_argument, "N",
	  "IP datagrams in reassembly at once (4096)" },
	{ "max-frags", OPT_MAX_FRAGS, required_argument, "N", "fragments per datagram (64)" },
	{ "frag-timeout", OPT_FRAG_TIMEOUT, required_argument, "DUR", "fragment timeout (30s)" },
	{ "max-parser-mem", OPT_MAX_PARSER_MEM, required_argument, "BYTES",
	  "heap of all application parsers (67108864)" },
	{ "no-apps", OPT_NO_APPS, no_argument, NULL, "no HTTP/DNS/TLS/QUIC parsing" },
	{ "user", OPT_USER, required_argument, "USER",
	  "drop privileges to USER after opening (nobody)" },
};

static int dpi_opt(int val, const char *arg, void *ctx)
{
	struct dpi_cli *c = ctx;
	uint32_t v;
	int err = 0;

	switch (val) {
	case 'r':
		c->in.file = arg;
		return 0;
	case 'i':
		c->in.iface = arg;
		return 0;
	case 'f':
		c->in.filter = arg;
		return 0;
	case 'w':
		c->in.dump = arg;
		return 0;
	case 'o':
		c->outfile = arg;
		return 0;
	case OPT_SUMMARY:
		c->out_flags |= OUT_SUMMARY_ONLY;
		return 0;
	case 'q':
		c->out_flags |= OUT_QUIET;
		return 0;
	case OPT_NO_APPS:
		c->d.no_apps = true;
		return 0;
	case OPT_USER:
		c->user = arg;
		return 0;
	case OPT_MAX_FLOWS:
		err = parse_u32(arg, 1, 1u << 26, &c->d.max_flows);
		break;
	case OPT_MAX_BUFFER:
		if (!(err = parse_u32(arg, 0, UINT32_MAX, &v)))
			c->d.max_flow_buffer = v;
		break;
	case OPT_MAX_TOTAL:
		if (!(err = parse_u32(arg, 0, UINT32_MAX, &v)))
			c->d.max_total_buffer = v;
		break;
	case OPT_MAX_PARSER_MEM:
		if (!(err = parse_u32(arg, 0, UINT32_MAX, &v)))
			c->d.max_parser_mem = v;
		break;
	case OPT_TCP_IDLE:
		err = parse_duration(arg, NS_PER_SEC, 86400 * NS_PER_SEC, &c->d.tcp_idle_ns);
		break;
	case OPT_UDP_IDLE:
		err = parse_duration(arg, NS_PER_SEC, 86400 * NS_PER_SEC, &c->d.udp_idle_ns);
		break;
	case OPT_MAX_DGRAMS:
		err = parse_u32(arg, 1, 1u << 20, &c->d.frag_max_datagrams);
		break;
	case OPT_MAX_FRAGS:
		err = parse_u32(arg, 1, 8192, &c->d.frag_max_frags);
		break;
	case OPT_FRAG_TIMEOUT:
		err = parse_duration(arg, NS_PER_SEC, 3600 * NS_PER_SEC, &c->d.frag_timeout_ns);
		break;
	default:
		return -1;
	}
	if (err) {
		fprintf(stderr, "capgate dpi: bad value '%s': %s\n", arg, strerror(-err));
		return -1;
	}
	return 0;
}

struct run {
	struct out *out;
	int out_err;
};

static void on_event(void *ctx, const struct dpi_event *ev)
{
	struct run *r = ctx;

	if (out_event(r->out, ev))
		r->out_err = 1;
}

static void on_flow_end(void *ctx, const struct flow *f)
{
	struct run *r = ctx;

	if (out_flow(r->out, f))
		r->out_err = 1;
}

/* Privilege separation: nothing from the capture is parsed while we hold root. */
static int drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "capgate dpi: no user '%s' to drop privileges to\n", user);
		return -1;
	}
	if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
		fprintf(stderr, "capgate dpi: cannot drop privileges: %s\n", strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "capgate dpi: privileges not dropped\n");
		return -1;
	}
	return 0;
}

static volatile sig_atomic_t stop;
static struct input *g_input;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
	if (g_input)
		input_break(g_input);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int cmd_dpi(int argc, char **argv, const struct cg_global *g)
{
	struct dpi_cli c = { .user = "nobody" };
	struct run r = { 0 };
	struct input *in = NULL;
	struct dpi *d = NULL;
	FILE *fp = stdout;
	char err[512];
	struct input_pkt p;
	uint64_t t0, drops = 0;
	bool has_drops;
	int ret = 1, rc;

	(void)g;
	dpi_opts_default(&c.d);
	rc = opts_parse(argc, argv, DPI_USAGE, dpi_table, sizeof(dpi_table) / sizeof(dpi_table[0]),
			dpi_opt, &c);
	if (rc)
		return rc == 1 ? 0 : 2;
	if (!!c.in.file == !!c.in.iface || optind != argc) {
		fprintf(stderr, "capgate dpi: give exactly one of -r FILE or -i IFACE\n");
		opts_usage(DPI_USAGE, dpi_table, sizeof(dpi_table) / sizeof(dpi_table[0]));
		return 2;
	}
	if (input_open(&in, &c.in, err, sizeof(err))) {
		fprintf(stderr, "capgate dpi: %s: %s\n", c.in.file ? c.in.file : c.in.iface, err);
		goto out;
	}
	if (c.outfile) {
		fp = fopen(c.outfile, "w");
		if (!fp) {
			fprintf(stderr, "capgate dpi: %s: %s\n", c.outfile, strerror(errno));
			fp = stdout;
			goto out;
		}
	}
	/* Files: one write per MiB of JSON lines. Live: each line as it happens. */
	setvbuf(fp, NULL, input_is_live(in) ? _IOLBF : _IOFBF, 1 << 20);
	if (drop_privileges(c.user))
		goto out;
	r.out = out_new(fp, c.out_flags);
	c.d.cb.on_app_event = on_event;
	c.d.cb.on_flow_end = on_flow_end;
	c.d.ctx = &r;
	d = r.out ? dpi_new(&c.d) : NULL;
	if (!d) {
		fprintf(stderr, "capgate dpi: %s\n", strerror(errno));
		goto out;
	}
	g_input = in;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_ns(CLOCK_MONOTONIC);
	ret = 0;
	while (!stop) {
		rc = input_next(in, &p);
		if (rc == 1) {
			dpi_packet(d, p.ts_ns, p.linktype, p.data, p.caplen, p.wirelen);
		} else if (rc == -EAGAIN) {
			dpi_tick(d, now_ns(CLOCK_REALTIME));
		} else if (rc == 0) {
			break;
		} else {
			fprintf(stderr, "capgate dpi: %s: %s\n", c.in.file ? c.in.file : c.in.iface,
				input_error(in));
			ret = 1;
			break;
		}
	}
	dpi_flush(d);
	/* live: what the kernel dropped before we could read it (pcap_stats) */
	has_drops = input_is_live(in) && !input_drops(in, &drops);
	if (out_summary(r.out, dpi_counters(d),
			(double)((now_ns(CLOCK_MONOTONIC) - t0) / 1000) / 1e6,
			has_drops ? &drops : NULL) ||
	    r.out_err || fflush(fp)) {
		fprintf(stderr, "capgate dpi: write error\n");
		ret = 1;
	}
out:
	g_input = NULL;
	dpi_free(d);
	out_free(r.out);
	input_close(in);
	if (fp != stdout && fclose(fp)) {
		fprintf(stderr, "capgate dpi: %s: write error\n", c.outfile);
		ret = 1;
	}
	return ret;
}

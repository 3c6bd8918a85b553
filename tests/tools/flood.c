// SPDX-License-Identifier: GPL-2.0
/* For tests/net/test_flood.sh and bench/flood_bench.sh: spoofed-source packets on AF_PACKET. */
#define _GNU_SOURCE /* sendmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ether.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/addr.h"
#include "lib/base/parse_num.h"
#include "tests/lib/pkt.h"

#define BATCH_MAX 256

static const char usage[] =
	"usage: flood -i IFNAME --dst-mac MAC --dst ADDR [options]\n"
	"  -i, --interface IFNAME  send on IFNAME (AF_PACKET, sendmmsg)\n"
	"  --dst-mac MAC           the frames' destination (the gateway's interface)\n"
	"  --src-mac MAC           the frames' source (default: IFNAME's address)\n"
	"  --dst ADDR              IPv4 or IPv6 destination\n"
	"  --src CIDR              random sources in CIDR, of --dst's family\n"
	"                          (default 198.18.0.0/15, or 2001:db8::/32 for IPv6)\n"
	"  --dport LO[-HI]         random destination port in [LO, HI] (default 1-65535)\n"
	"  --proto tcp|udp         TCP SYN (default) or UDP\n"
	"  --size BYTES            frame length without the FCS (default: 60, 64 on the wire,\n"
	"                          or the headers alone if longer: 62 for IPv6 UDP, 74 TCP)\n"
	"  --duration SECONDS      stop after SECONDS (default 1 unless --count)\n"
	"  --count N               stop after N packets\n"
	"  --rate PPS              at most PPS packets a second (default 0: as fast as possible)\n"
	"  --batch N               packets per sendmmsg (1-256, default 64)\n"
	"  --seed N                seed of the random sources and ports (default: the time)\n"
	"Prints: sent=N failed=N seconds=S cpu=S pps=R (failed: refused by the kernel, not\n"
	"resent; cpu: this process's user + system time, the softirq work its sends ran too).\n";

struct flood {
	int family;	   /* AF_INET or AF_INET6 */
	uint8_t proto;	   /* IPPROTO_TCP or IPPROTO_UDP */
	struct cidr src;   /* random sources inside */
	uint32_t dport_lo; /* random destination port in [dport_lo, dport_hi] */
	uint32_t dport_hi;
	uint64_t rng;	  /* xorshift64 state */
	struct pkt tmpl;  /* sources, ports and sequence zero; checksums over that */
	uint16_t ip_csum; /* the template's checksums */
	uint16_t l4_csum;
	size_t csum_off; /* L4 checksum's offset in the frame */
	size_t src_off;	 /* source address's offset in the frame */
};

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
	(void)sig;
	stop_now = 1;
}

static uint64_t rnd(struct flood *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The template: the real frame with a zero source, zero ports and sequence.
 * Every packet then only adds its own values to the template's checksums
 * (RFC 1624: the fields replaced were zero). A frame up to the Ethernet
 * minimum is padded, as a NIC pads it; a longer one carries a payload.
 */
static int template_build(struct flood *f, const char *dst, uint32_t size)
{
	struct pkt_spec s = {
		.family = f->family == AF_INET6 ? 6 : 4,
		.src = f->family == AF_INET6 ? "::" : "0.0.0.0",
		.dst = dst,
		.proto = f->proto,
		.tcp_win = 64240,
	};
	size_t hdrs =
		ETH_HLEN + (f->family == AF_INET6 ? 40 : 20) + (f->proto == IPPROTO_TCP ? 20 : 8);
	size_t l3 = ETH_HLEN;

	if (!size)
		size = hdrs > ETH_ZLEN ? hdrs : ETH_ZLEN;
	if (size < hdrs || size > PKT_MAX)
		return -EINVAL;
	s.payload_len = size > ETH_ZLEN ? size - hdrs : 0;
	if (pkt_build(&s, &f->tmpl))
		return -EINVAL;
	f->tmpl.len = size; /* pkt_build zeroed the padding */
	f->src_off = l3 + (f->family == AF_INET6 ? 8 : 12);
	f->csum_off = f->tmpl.l4_off + (f->proto == IPPROTO_TCP ? 16 : 6);
	f->l4_csum = get16(f->tmpl.data + f->csum_off);
	f->ip_csum = f->family == AF_INET ? get16(f->tmpl.data + l3 + 10) : 0;
	return 0;
}

/* One packet into out (len bytes of the template): a new source, ports and sequence. */
static void packet_fill(struct flood *f, uint8_t *out)
{
	size_t alen = f->family == AF_INET6 ? 16 : 4, i, l4 = f->tmpl.l4_off;
	size_t fixed = f->src.plen / 8, nl4 = f->proto == IPPROTO_TCP ? 8 : 4;
	uint8_t *src = out + f->src_off, mask;
	uint64_t r = rnd(f);
	uint16_t c;

	memcpy(out, f->tmpl.data, f->tmpl.len);
	memcpy(src, f->src.addr, alen);
	for (i = fixed; i < alen; i++) {
		mask = i == fixed ? (uint8_t)(0xff >> (f->src.plen % 8)) : 0xff;
		if (i % 8 == 0)
			r = rnd(f);
		src[i] |= (uint8_t)(r >> (8 * (i % 8))) & mask;
	}
	r = rnd(f);
	put16(out + l4, 1024 + (uint16_t)(r % (65536 - 1024)));
	put16(out + l4 + 2, f->dport_lo + (uint16_t)((r >> 16) % (f->dport_hi - f->dport_lo + 1)));
	if (f->proto == IPPROTO_TCP) {
		put16(out + l4 + 4, (uint16_t)(r >> 32));
		put16(out + l4 + 6, (uint16_t)(r >> 48));
	}

	/* ~old, then the new fields: the checksum over the whole, unfolded then inverted. */
	c = pkt_csum(src, alen, (uint16_t)~f->l4_csum);
	c = pkt_csum(out + l4, nl4, (uint16_t)~c);
	if (f->proto == IPPROTO_UDP && !c)
		c = 0xffff;
	put16(out + f->csum_off, c);
	if (f->family == AF_INET)
		put16(out + ETH_HLEN + 10, pkt_csum(src, alen, (uint16_t)~f->ip_csum));
}

static int mac_parse(const char *s, uint8_t out[ETH_ALEN])
{
	struct ether_addr a;

	if (!ether_aton_r(s, &a))
		return -EINVAL;
	memcpy(out, a.ether_addr_octet, ETH_ALEN);
	return 0;
}

static int port_range_parse(const char *s, uint32_t *lo, uint32_t *hi)
{
	char buf[16], *dash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_u32(buf, 1, 65535, lo))
		return -EINVAL;
	if (!dash) {
		*hi = *lo;
		return 0;
	}
	return parse_u32(dash + 1, *lo, 65535, hi) ? -EINVAL : 0;
}

enum opt_id {
	OPT_DST_MAC = 256,
	OPT_SRC_MAC,
	OPT_DST,
	OPT_SRC,
	OPT_DPORT,
	OPT_PROTO,
	OPT_SIZE,
	OPT_DURATION,
	OPT_COUNT,
	OPT_RATE,
	OPT_BATCH,
	OPT_SEED,
};

static const struct option long_opts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
	{ "src-mac", required_argument, NULL, OPT_SRC_MAC },
	{ "dst", required_argument, NULL, OPT_DST },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "dport", required_argument, NULL, OPT_DPORT },
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *ifname, *dst, *src, *dst_mac, *src_mac;
	uint32_t size, duration, count, rate, batch, seed;
	int has_seed;
};

/* The numeric options, in the order of enum opt_id from OPT_SIZE. */
static const struct num_opt {
	uint32_t min, max;
	size_t off; /* of the value in struct opts */
	const char *why;
} num_opts[] = {
	{ 54, PKT_MAX, offsetof(struct opts, size), "--size: 54-2048 bytes" },
	{ 1, 86400, offsetof(struct opts, duration), "--duration: 1-86400 seconds" },
	{ 1, UINT32_MAX, offsetof(struct opts, count), "--count: 1-4294967295" },
	{ 0, 100000000, offsetof(struct opts, rate), "--rate: 0-100000000 packets a second" },
	{ 1, BATCH_MAX, offsetof(struct opts, batch), "--batch: 1-256" },
	{ 0, UINT32_MAX, offsetof(struct opts, seed), "--seed: a 32-bit number" },
};
_Static_assert(sizeof(num_opts) / sizeof(num_opts[0]) == OPT_SEED - OPT_SIZE + 1, "num_opts");

/* Returns 0, or -EINVAL with *why naming the option. */
static int opts_parse(int argc, char **argv, struct opts *o, struct flood *f, const char **why)
{
	const struct num_opt *n;
	int c;

	while ((c = getopt_long(argc, argv, "i:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case OPT_DST_MAC:
			o->dst_mac = optarg;
			break;
		case OPT_SRC_MAC:
			o->src_mac = optarg;
			break;
		case OPT_DST:
			o->dst = optarg;
			break;
		case OPT_SRC:
			o->src = optarg;
			break;
		case OPT_DPORT:
			*why = "--dport: LO or LO-HI, 1-65535";
			if (port_range_parse(optarg, &f->dport_lo, &f->dport_hi))
				return -EINVAL;
			break;
		case OPT_PROTO:
			*why = "--proto: tcp or udp";
			if (!strcmp(optarg, "tcp"))
				f->proto = IPPROTO_TCP;
			else if (!strcmp(optarg, "udp"))
				f->proto = IPPROTO_UDP;
			else
				return -EINVAL;
			break;
		case OPT_SIZE ... OPT_SEED:
			n = &num_opts[c - OPT_SIZE];
			*why = n->why;
			if (parse_u32(optarg, n->min, n->max, (uint32_t *)((char *)o + n->off)))
				return -EINVAL;
			o->has_seed |= c == OPT_SEED;
			break;
		default:
			*why = NULL;
			return -EINVAL;
		}
	}
	*why = "-i, --dst-mac and --dst are required";
	if (optind != argc || !o->ifname || !o->dst_mac || !o->dst)
		return -EINVAL;
	return 0;
}

/* The addresses of the frames: --dst's family, --src inside it. */
static int addrs_parse(const struct opts *o, struct flood *f, const char **why)
{
	struct cidr dst;

	if (cidr_parse(o->dst, &dst, why) || dst.plen != (dst.family == AF_INET ? 32 : 128)) {
		*why = "--dst: one IPv4 or IPv6 address";
		return -EINVAL;
	}
	f->family = dst.family;
	if (cidr_parse(o->src		      ? o->src
		       : f->family == AF_INET ? "198.18.0.0/15"
					      : "2001:db8::/32",
		       &f->src, why) ||
	    f->src.family != f->family) {
		*why = "--src: a prefix of --dst's family";
		return -EINVAL;
	}
	return 0;
}

/* An AF_PACKET socket bound to nothing it would receive (protocol 0), and IFNAME's index. */
static int packet_socket(const char *ifname, uint8_t src_mac[ETH_ALEN], int want_mac, int *ifindex)
{
	struct ifreq ifr = { 0 };
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	*ifindex = (int)if_nametoindex(ifname);
	if (!*ifindex || strlen(ifname) >= IFNAMSIZ)
		goto fail;
	if (want_mac) {
		strcpy(ifr.ifr_name, ifname);
		if (ioctl(fd, SIOCGIFHWADDR, &ifr))
			goto fail;
		memcpy(src_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	}
	return fd;
fail:
	close(fd);
	return -ENODEV;
}

int main(int argc, char **argv)
{
	static uint8_t frames[BATCH_MAX][PKT_MAX];
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct opts o = { .batch = 64 };
	struct flood f = { .proto = IPPROTO_TCP, .dport_lo = 1, .dport_hi = 65535 };
	uint8_t dmac[ETH_ALEN], smac[ETH_ALEN] = { 0 };
	uint64_t sent = 0, failed = 0, limit, t0, end, t, due;
	const char *why = NULL;
	uint32_t i, n;
	int fd, r, ifindex = 0;
	struct rusage ru;
	double secs, cpu;

	if (opts_parse(argc, argv, &o, &f, &why) || addrs_parse(&o, &f, &why) ||
	    mac_parse(o.dst_mac, dmac) || (o.src_mac && mac_parse(o.src_mac, smac))) {
		if (why)
			fprintf(stderr, "flood: %s\n", why);
		fputs(usage, stderr);
		return 2;
	}
	if (template_build(&f, o.dst, o.size)) {
		fprintf(stderr, "flood: --size %u is below the headers of one packet\n", o.size);
		return 2;
	}
	fd = packet_socket(o.ifname, smac, !o.src_mac, &ifindex);
	if (fd < 0) {
		fprintf(stderr, "flood: %s: %s\n", o.ifname, strerror(-fd));
		return 1;
	}
	memcpy(f.tmpl.data, dmac, ETH_ALEN);
	memcpy(f.tmpl.data + ETH_ALEN, smac, ETH_ALEN);
	f.rng = o.has_seed ? o.seed : (uint64_t)now_ns();
	f.rng = f.rng * 0x9e3779b97f4a7c15ULL | 1; /* xorshift needs a state that is not zero */

	sll.sll_ifindex = ifindex;
	sll.sll_protocol = htons(f.family == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP);
	sll.sll_halen = ETH_ALEN;
	memcpy(sll.sll_addr, dmac, ETH_ALEN);
	for (i = 0; i < o.batch; i++) {
		iov[i] = (struct iovec){ .iov_base = frames[i], .iov_len = f.tmpl.len };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &sll,
							 .msg_namelen = sizeof(sll),
							 .msg_iov = &iov[i],
							 .msg_iovlen = 1 } };
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	limit = o.count ? o.count : UINT64_MAX;
	t0 = now_ns();
	end = o.duration || !o.count ? t0 + (uint64_t)(o.duration ? o.duration : 1) * NS_PER_SEC
				     : UINT64_MAX;
	for (t = t0; !stop_now && sent + failed < limit && t < end; t = now_ns()) {
		n = o.batch;
		if (limit - sent - failed < n)
			n = (uint32_t)(limit - sent - failed);
		if (o.rate) {
			/* Packet number sent + failed is due at t0 + (sent + failed) / rate (in
			   double: a day at 100 Mpps overflows 64-bit nanoseconds). */
			due = t0 + (uint64_t)((double)(sent + failed) * NS_PER_SEC / o.rate);
			if (due > t) {
				struct timespec ts = { .tv_sec = (time_t)(due / NS_PER_SEC),
						       .tv_nsec = (long)(due % NS_PER_SEC) };
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				continue;
			}
			/* No burst beyond what is due by now (plus one packet). */
			due = (uint64_t)((double)(t - t0) * o.rate / NS_PER_SEC) + 1 -
			      (sent + failed);
			if (due < n)
				n = (uint32_t)due;
		}
		for (i = 0; i < n; i++)
			packet_fill(&f, frames[i]);
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != ENOBUFS && errno != EAGAIN) {
				fprintf(stderr, "flood: sendmmsg: %s\n", strerror(errno));
				close(fd);
				return 1;
			}
			r = 0;
		}
		sent += (uint64_t)r;
		/* The first packet sendmmsg did not take was refused; the rest were not tried. */
		if ((uint32_t)r < n)
			failed++;
	}
	close(fd);
	secs = (double)(now_ns() - t0) / NS_PER_SEC;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("sent=%llu failed=%llu seconds=%.3f cpu=%.3f pps=%.0f\n", (unsigned long long)sent,
	       (unsigned long long)failed, secs, cpu, secs > 0 ? (double)sent / secs : 0.0);
	return 0;
}

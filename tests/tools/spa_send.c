// SPDX-License-Identifier: GPL-2.0
/* For the net tests and bench/spa_flood.sh: SPA packets at a fixed rate, signed or forged. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/auth/spa.h"
#include "lib/auth/tls.h"
#include "lib/base/parse_num.h"

#define NS 1000000000LL

static const char usage[] =
	"usage: spa_send HOST PORT COUNT RATE sign KEY DEVICE [OUT]   signed, fresh nonce each\n"
	"       spa_send HOST PORT COUNT RATE forge KEY DEVICE        bad signature, fresh nonce\n"
	"       spa_send HOST PORT COUNT RATE file IN                 the packet in IN again\n"
	"RATE: packets per second, 0 as fast as possible. OUT: the last packet sent, raw.\n";

static int udp_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	int fd;

	if (getaddrinfo(host, port, &hints, &res))
		return -1;
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint8_t pkt[SPA_MAX_LEN];
	EVP_PKEY *key = NULL;
	uint32_t count, rate, i;
	const char *mode, *out = NULL;
	long long t0, at;
	char err[512];
	int fd, n = 0;
	FILE *f;

	if (argc < 7 || parse_u32(argv[3], 1, UINT32_MAX, &count) ||
	    parse_u32(argv[4], 0, 10000000, &rate)) {
		fputs(usage, stderr);
		return 2;
	}
	mode = argv[5];
	if (!strcmp(mode, "file") && argc == 7) {
		f = fopen(argv[6], "rb");
		n = f ? (int)fread(pkt, 1, sizeof(pkt), f) : 0;
		if (f)
			fclose(f);
	} else if ((!strcmp(mode, "sign") && (argc == 8 || argc == 9)) ||
		   (!strcmp(mode, "forge") && argc == 8)) {
		key = tls_load_key(argv[6], err, sizeof(err));
		if (!key) {
			fprintf(stderr, "spa_send: %s\n", err);
			return 1;
		}
		out = argc == 9 ? argv[8] : NULL;
		n = spa_build(argv[7], IPPROTO_TCP, 8443, (uint64_t)time(NULL), key, pkt,
			      sizeof(pkt));
		/* A forgery: the last signature byte flipped, so it fails only at the signature. */
		if (n > 0 && !strcmp(mode, "forge"))
			pkt[n - 1] ^= 1;
	} else {
		fputs(usage, stderr);
		return 2;
	}
	fd = udp_to(argv[1], argv[2]);
	if (n <= 0 || fd < 0) {
		fprintf(stderr, "spa_send: %s\n", n <= 0 ? "no packet" : strerror(errno));
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		if (i && !strcmp(mode, "sign"))
			n = spa_build(argv[7], IPPROTO_TCP, 8443, (uint64_t)time(NULL), key, pkt,
				      sizeof(pkt));
		else if (i && !strcmp(mode, "forge"))
			memcpy(pkt + SPA_MAGIC_LEN + 1 + strlen(argv[7]) + 8, &i, sizeof(i));
		/* Absolute deadlines: a late wake-up is caught up, the mean rate holds. */
		if (rate) {
			at = t0 + (long long)i * NS / rate;
			if (now_ns() < at) {
				struct timespec ts = { .tv_sec = at / NS, .tv_nsec = at % NS };

				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			}
		}
		/* A full socket buffer under a flood is not an error: the packet is dropped. */
		if (send(fd, pkt, (size_t)n, 0) < 0 && errno != ENOBUFS && errno != ECONNREFUSED) {
			fprintf(stderr, "spa_send: %s\n", strerror(errno));
			return 1;
		}
	}
	if (out) {
		f = fopen(out, "wb");
		if (!f || fwrite(pkt, 1, (size_t)n, f) != (size_t)n || fclose(f)) {
			fprintf(stderr, "spa_send: %s: cannot write\n", out);
			return 1;
		}
	}
	printf("%u %.3f\n", count, (double)(now_ns() - t0) / NS);
	EVP_PKEY_free(key);
	close(fd);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* The gate's sieve: its wanted ports and rule prefixes, generations and seeding. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "abi/gate.h"
#include "abi/sieve.h"
#include "lib/datapath/mapmem.h"
#include "lib/datapath/sieve.h"

struct sieve {
	struct gate_sieve *g;
	size_t len; /* bytes mapped */
};

/* The gate reads these words while they change: one aligned 8-byte store each. */
static void word_store(__u64 *w, __u64 v)
{
	__atomic_store_n(w, v, __ATOMIC_RELAXED);
}

static void word_or(__u64 *w, __u64 bit)
{
	if (!(__atomic_load_n(w, __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
}

struct sieve *sieve_open(int map_fd)
{
	struct sieve *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->g = mapmem_open(map_fd, sizeof(struct gate_sieve), 1, &s->len);
	if (!s->g) {
		err = errno;
		free(s);
		errno = err;
		return NULL;
	}
	return s;
}

void sieve_close(struct sieve *s)
{
	if (!s)
		return;
	munmap(s->g, s->len);
	free(s);
}

/* The wanted-port bits of @ports in @want (zeroed by the caller). */
static void ports_bits(__u64 want[2][CG_SIEVE_PORT_WORDS], const struct cg_port *ports, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		__u16 v = ports[i].port; /* network order, as the gate indexes */

		if (ports[i].proto != IPPROTO_TCP && ports[i].proto != IPPROTO_UDP)
			continue;
		want[sieve_proto(ports[i].proto)][v >> 6] |= 1ULL << (v & 63);
	}
}

/* The wanted set becomes @ports, or (!exact) gains them. */
static void ports_write(struct sieve *s, const struct cg_port *ports, size_t n, int exact)
{
	__u64 want[2][CG_SIEVE_PORT_WORDS] = { { 0 } };
	size_t p, w;

	ports_bits(want, ports, n);
	for (p = 0; p < 2; p++)
		for (w = 0; w < CG_SIEVE_PORT_WORDS; w++) {
			__u64 v = exact ? want[p][w] : s->g->want[p][w] | want[p][w];

			if (s->g->want[p][w] != v)
				word_store(&s->g->want[p][w], v);
		}
}

void sieve_ports_add(struct sieve *s, const struct cg_port *ports, size_t n)
{
	ports_write(s, ports, n, 0);
}

void sieve_ports_set(struct sieve *s, const struct cg_port *ports, size_t n)
{
	ports_write(s, ports, n, 1);
}

/* The 16-bit prefixes @c covers: bits [*lo, *hi] of rules[*v6]. */
static void rule_range(const struct cidr *c, int *v6, __u32 *lo, __u32 *hi)
{
	__u32 first = (__u32)c->addr[0] << 8 | c->addr[1];
	unsigned int plen = c->plen < 16 ? c->plen : 16;
	__u32 span = 1U << (16 - plen);

	*v6 = c->family == AF_INET6;
	*lo = first & ~(span - 1);
	*hi = *lo + span - 1;
}

static void rule_bits(__u64 rules[2][CG_SIEVE_PFX_WORDS], const struct cidr *c)
{
	__u32 lo, hi, b;
	int v6;

	rule_range(c, &v6, &lo, &hi);
	for (b = lo; b <= hi; b++)
		rules[v6][b >> 6] |= 1ULL << (b & 63);
}

void sieve_rule_add(struct sieve *s, const struct cidr *c)
{
	__u32 lo, hi, b;
	int v6;

	rule_range(c, &v6, &lo, &hi);
	for (b = lo; b <= hi; b++)
		word_or(&s->g->rules[v6][b >> 6], 1ULL << (b & 63));
}

void sieve_rules_set(struct sieve *s, const struct fw_store *st)
{
	__u64 bits[2][CG_SIEVE_PFX_WORDS] = { { 0 } };
	size_t i, f, w;

	for (i = 0; i < st->n; i++)
		rule_bits(bits, &st->rules[i].cidr);
	for (f = 0; f < 2; f++)
		for (w = 0; w < CG_SIEVE_PFX_WORDS; w++)
			if (s->g->rules[f][w] != bits[f][w])
				word_store(&s->g->rules[f][w], bits[f][w]);
}

int sieve_seed(struct sieve *s, int flows_fd, int knock_fd)
{
	__u32 gen = __atomic_load_n(&s->g->gen, __ATOMIC_RELAXED) & 1;
	struct flow_key fk, fnext;
	__u8 src[16], snext[16];
	void *prev = NULL;
	int n = 0;

	errno = 0;
	while (bpf_map_get_next_key(flows_fd, prev, &fnext) == 0) {
		__u16 v = fnext.dport;

		if (fnext.proto == IPPROTO_TCP || fnext.proto == IPPROTO_UDP) {
			word_or(&s->g->flow[gen][sieve_proto(fnext.proto)][v >> 6],
				1ULL << (v & 63));
			n++;
		}
		fk = fnext;
		prev = &fk;
	}
	if (errno != ENOENT)
		return -errno;
	prev = NULL;
	while (bpf_map_get_next_key(knock_fd, prev, snext) == 0) {
		__u32 b = sieve_knock_bit(snext);

		word_or(&s->g->knock[gen][b >> 6], 1ULL << (b & 63));
		n++;
		memcpy(src, snext, sizeof(src));
		prev = src;
	}
	return errno == ENOENT ? n : -errno;
}

void sieve_rotate(struct sieve *s)
{
	__u32 gen = __atomic_load_n(&s->g->gen, __ATOMIC_RELAXED);
	__u32 next = (gen + 1) & 1;
	size_t p, w;

	for (p = 0; p < 2; p++)
		for (w = 0; w < CG_SIEVE_PORT_WORDS; w++)
			word_store(&s->g->flow[next][p][w], 0);
	for (w = 0; w < CG_SIEVE_KNOCK_WORDS; w++)
		word_store(&s->g->knock[next][w], 0);
	/* Cleared before the gate marks it: the release orders the stores above. */
	__atomic_store_n(&s->g->gen, gen + 1, __ATOMIC_RELEASE);
}

void sieve_enable(struct sieve *s, int on)
{
	__atomic_store_n(&s->g->on, on ? 1U : 0U, __ATOMIC_RELEASE);
}

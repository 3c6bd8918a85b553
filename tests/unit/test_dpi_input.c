// SPDX-License-Identifier: GPL-2.0
/* The pcapng block reader as a table of crafted files: valid, damaged, several sections. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/dpi/input.h"
#include "tests/lib/t.h"

struct buf {
	uint8_t b[2048];
	size_t n;
};

static void u32(struct buf *f, uint32_t v)
{
	memcpy(f->b + f->n, &v, 4); /* little endian host (x86, arm64) */
	f->n += 4;
}

static void u16(struct buf *f, uint16_t v)
{
	memcpy(f->b + f->n, &v, 2);
	f->n += 2;
}

static void shb(struct buf *f, uint16_t major)
{
	u32(f, 0x0a0d0d0a), u32(f, 28), u32(f, 0x1a2b3c4d), u16(f, major), u16(f, 0);
	u32(f, 0xffffffff), u32(f, 0xffffffff), u32(f, 28);
}

/* IDB with if_tsresol = tsresol */
static void idb(struct buf *f, uint16_t linktype, uint8_t tsresol)
{
	u32(f, 1), u32(f, 32), u16(f, linktype), u16(f, 0), u32(f, 65535);
	u16(f, 9), u16(f, 1), u32(f, tsresol); /* option 9, 1 byte, padded */
	u32(f, 0), u32(f, 32);		       /* end of options */
}

static void epb(struct buf *f, uint32_t ifid, uint64_t ts, uint32_t caplen, uint32_t len)
{
	uint32_t pad = (4 - caplen % 4) % 4, blen = 32 + caplen + pad;

	u32(f, 6), u32(f, blen), u32(f, ifid), u32(f, (uint32_t)(ts >> 32)), u32(f, (uint32_t)ts);
	u32(f, caplen), u32(f, len);
	memset(f->b + f->n, 0x45, caplen + pad);
	f->n += caplen + pad;
	u32(f, blen);
}

struct icase {
	const char *name;
	void (*build)(struct buf *f);
	int want_pkts;	  /* packets read before the end */
	int want_rc;	  /* last input_next: 0 or -EIO */
	uint64_t want_ts; /* of the last packet */
	int want_lt;	  /* of the last packet */
};

static void f_two_ifs(struct buf *f)
{
	shb(f, 1);
	idb(f, 1, 9);
	idb(f, 0, 6);
	epb(f, 0, 1500000000123456789ull, 20, 60);
	epb(f, 1, 1500000000123456ull, 20, 20);
}

static void f_two_sections(struct buf *f)
{
	shb(f, 1);
	idb(f, 1, 6);
	epb(f, 0, 1000000, 20, 20);
	shb(f, 1);
	idb(f, 101, 0x80 | 20); /* 2^-20 s */
	epb(f, 0, 1ull << 20, 20, 20);
}

static void f_version2(struct buf *f)
{
	shb(f, 1);
	idb(f, 1, 6);
	epb(f, 0, 1000000, 20, 20);
	shb(f, 2);
	epb(f, 0, 1000000, 20, 20);
}

static void f_unknown_if(struct buf *f)
{
	shb(f, 1);
	epb(f, 3, 0, 20, 20);
}

static void f_truncated(struct buf *f)
{
	f_two_ifs(f);
	f->n -= 6;
}

static void f_bad_len(struct buf *f)
{
	shb(f, 1);
	u32(f, 6), u32(f, 13), u32(f, 0), u32(f, 13);
}

static void f_len_mismatch(struct buf *f)
{
	shb(f, 1);
	idb(f, 1, 6);
	epb(f, 0, 0, 20, 20);
	f->b[f->n - 4] = 99;
}

static void f_caplen_overrun(struct buf *f)
{
	shb(f, 1);
	idb(f, 1, 6);
	epb(f, 0, 0, 20, 20);
	memcpy(f->b + 28 + 32 + 20, "\xff\x00\x00\x00", 4); /* caplen 255 in a 52-byte block */
}

static void f_no_section(struct buf *f)
{
	idb(f, 1, 6);
}

static const struct icase icases[] = {
	{ "two_interfaces_ns_and_us", f_two_ifs, 2, 0, 1500000000123456000ull, 0 },
	{ "two_sections_binary_resolution", f_two_sections, 2, 0, 1000000000ull, 101 },
	{ "version_2_section", f_version2, 1, -EIO, 1000000000ull, 1 },
	{ "undeclared_interface", f_unknown_if, 1, 0, 0, -1 },
	{ "truncated_block", f_truncated, 1, -EIO, 1500000000123456789ull, 1 },
	{ "bad_block_length", f_bad_len, 0, -EIO, 0, 0 },
	{ "block_lengths_disagree", f_len_mismatch, 0, -EIO, 0, 0 },
	{ "caplen_beyond_block", f_caplen_overrun, 0, -EIO, 0, 0 },
};

static void test_pcapng_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(icases) / sizeof(icases[0]); i++) {
		const struct icase *c = &icases[i];
		static struct buf f;
		struct input_opts o = { 0 };
		struct input *in = NULL;
		struct input_pkt p = { 0 }, last = { 0 };
		char err[256];
		int n = 0, rc;

		memset(&f, 0, sizeof(f));
		c->build(&f);
		o.fp = fmemopen(f.b, f.n, "rb");
		if (!ASSERT_TRUE(o.fp != NULL, c->name))
			continue;
		if (!ASSERT_EQ(input_open(&in, &o, err, sizeof(err)), 0, c->name))
			continue;
		while ((rc = input_next(in, &p)) == 1) {
			n++;
			last = p;
		}
		ASSERT_EQ(n, c->want_pkts, c->name);
		ASSERT_EQ(rc, c->want_rc, c->name);
		if (n) {
			ASSERT_EQ(last.ts_ns, c->want_ts, c->name);
			ASSERT_EQ(last.linktype, c->want_lt, c->name);
		}
		if (rc)
			ASSERT_TRUE(strncmp(input_error(in), "pcapng: ", 8) == 0, c->name);
		input_close(in);
	}
}

static void test_pcapng_not_pcapng(void)
{
	static uint8_t junk[64] = "this is not a capture file at all, neither pcap nor pcapng";
	struct input_opts o = { .fp = fmemopen(junk, sizeof(junk), "rb") };
	struct input *in = NULL;
	char err[256] = "";

	static struct buf f;

	ASSERT_TRUE(input_open(&in, &o, err, sizeof(err)) < 0, "junk refused");
	ASSERT_TRUE(strstr(err, "cannot read capture") != NULL, err);
	/* blocks without a section header first are not pcapng (nor pcap) */
	f_no_section(&f);
	o.fp = fmemopen(f.b, f.n, "rb");
	ASSERT_TRUE(input_open(&in, &o, err, sizeof(err)) < 0, "no section header refused");
}

T_MAIN(T_CASE(test_pcapng_table), T_CASE(test_pcapng_not_pcapng))

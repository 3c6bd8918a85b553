// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness: a sequence of packets through decode + defrag + TCP reassembly + parsers. */
#include <stddef.h>
#include <stdint.h>

#include "lib/base/rd.h"
#include "lib/dpi/dpi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: records of [link index u8][length u16be][frame bytes]. Several
 * packets per input let fragments and segments meet in the same tables.
 */
static const int links[] = {
	DEC_LINK_ETH,  DEC_LINK_RAW, DEC_LINK_NULL, DEC_LINK_LOOP, DEC_LINK_SLL,
	DEC_LINK_SLL2, DEC_LINK_PPP, DEC_LINK_IPV4, DEC_LINK_IPV6,
};

static void on_event(void *ctx, const struct dpi_event *ev)
{
	size_t *n = ctx;

	*n += ev->type;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpi_opts o;
	struct dpi *d;
	struct rd r;
	uint64_t ts = 1000000000ull;
	size_t sink = 0;
	uint8_t li;
	uint16_t len;
	const uint8_t *pkt;

	dpi_opts_default(&o);
	o.max_flows = 64;
	o.max_flow_buffer = 4096;
	o.max_total_buffer = 16384;
	o.frag_max_datagrams = 16;
	o.frag_max_frags = 16;
	o.frag_max_bytes = 65536 * 2;
	o.cb.on_app_event = on_event;
	o.ctx = &sink;
	d = dpi_new(&o);
	if (!d)
		return 0;
	rd_init(&r, data, size);
	while (!rd_u8(&r, &li) && !rd_u16be(&r, &len)) {
		if (len > rd_left(&r))
			len = (uint16_t)rd_left(&r);
		if (rd_ptr(&r, len, &pkt))
			break;
		dpi_packet(d, ts, links[li % (sizeof(links) / sizeof(links[0]))], pkt, len,
			   len + (li >> 7) * 100u);
		ts += (uint64_t)(li & 0x70) * 1000000000ull; /* sometimes time jumps: expiry */
	}
	dpi_flush(d);
	dpi_free(d);
	return 0;
}

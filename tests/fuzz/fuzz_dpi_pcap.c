// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness: a whole pcap/pcapng file (bytes through fmemopen) through the analyzer. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/dpi/dpi.h"
#include "lib/dpi/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input_opts io = { 0 };
	struct input *in = NULL;
	struct dpi_opts o;
	struct dpi *d = NULL;
	struct input_pkt p;
	char err[256];
	int n = 0;

	if (!size)
		return 0;
	io.fp = fmemopen((void *)data, size, "rb");
	if (!io.fp)
		return 0;
	if (input_open(&in, &io, err, sizeof(err)))
		return 0; /* input_open closed fp */
	dpi_opts_default(&o);
	o.max_flows = 256;
	o.frag_max_datagrams = 32;
	d = dpi_new(&o);
	if (d) {
		while (n++ < 100000 && input_next(in, &p) == 1)
			dpi_packet(d, p.ts_ns, p.linktype, p.data, p.caplen, p.wirelen);
		dpi_flush(d);
	}
	dpi_free(d);
	input_close(in);
	return 0;
}

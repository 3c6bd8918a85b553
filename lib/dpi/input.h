/* SPDX-License-Identifier: GPL-2.0 */
/* input: packets from a capture file (pcap/pcapng by magic) or a live interface, through libpcap.
 */
#ifndef CG_DPI_INPUT_H
#define CG_DPI_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct input_opts {
	const char *file;   /* -r: a capture file ("-" is stdin) */
	FILE *fp;	    /* or an open stream (fuzzing: fmemopen); the input takes ownership */
	const char *iface;  /* -i: live capture */
	const char *filter; /* -f: BPF filter expression, or NULL */
	const char *dump;   /* -w: write packets that passed the filter here, or NULL */
	int snaplen;	    /* live only; 0 means 262144 */
	bool promisc;	    /* live only */
};

struct input_pkt {
	uint64_t ts_ns;
	int linktype;	     /* DLT_* of this packet (pcapng interfaces may differ), -1 unknown */
	const uint8_t *data; /* valid until the next input_next() */
	size_t caplen, wirelen;
};

struct input;

/*
 * pcap files and live captures go through libpcap. pcapng files are read by
 * our own block reader, because libpcap 1.10 refuses interfaces whose link
 * type or snaplen differ from the first one's: every section and interface
 * is supported, the -f filter is compiled per link type, and -w writes the
 * packets of the first packet's link type (others are counted in
 * input_dump_skipped()).
 *
 * Open the capture described by o. Returns 0 and writes *out, or a negative
 * errno with a message (NUL-terminated, for the user) in err[0..errlen).
 * Free with input_close().
 */
int input_open(struct input **out, const struct input_opts *o, char *err, size_t errlen);

/*
 * The next packet: 1 and *p written, 0 at the end of the file, -EAGAIN when a
 * live capture timed out with nothing to read, or -EIO with input_error()
 * saying why (a damaged or unsupported file: what was read so far is valid).
 */
int input_next(struct input *in, struct input_pkt *p);

/* The link type (DLT_*) of the capture (of its first interface for pcapng). */
int input_linktype(const struct input *in);
/* The last error message ("" if none). */
const char *input_error(const struct input *in);
bool input_is_live(const struct input *in);
/* Live only: packets dropped by the kernel and the interface so far; 0 or -errno. */
int input_drops(struct input *in, uint64_t *drops);
/* Packets that passed the filter but could not go to the -w file (another link type). */
uint64_t input_dump_skipped(const struct input *in);
/* Stop a live capture loop from a signal handler. */
void input_break(struct input *in);
/* Flushes the -w file and closes everything; NULL is allowed. */
void input_close(struct input *in);

#endif

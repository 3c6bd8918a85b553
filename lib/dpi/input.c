// SPDX-License-Identifier: GPL-2.0
/* input: libpcap for pcap and live captures, our own block reader for pcapng; format by magic. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/rd.h"
#include "lib/dpi/input.h"

#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_OPB 2u /* obsolete packet block */
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BOM 0x1a2b3c4du
#define NG_BLOCK_MAX (16u << 20)
#define NG_IFS_MAX 4096

/* One pcapng interface (IDB) of the current section. */
struct ng_if {
	int linktype;
	uint32_t snaplen;
	uint8_t tsresol;  /* if_tsresol: 10^-n, or 2^-n with the top bit */
	int64_t tsoffset; /* seconds */
	int prog_state;	  /* 0 not compiled, 1 ok, -1 the filter does not apply */
	struct bpf_program prog;
};

struct input {
	pcap_t *p; /* libpcap capture, or NULL for pcapng */
	pcap_dumper_t *dumper;
	bool live;
	bool nano;
	/* pcapng */
	FILE *ng;
	bool be, in_section;
	struct ng_if *ifs;
	size_t nifs;
	uint8_t *blk;
	size_t blkcap;
	int first_linktype;
	uint64_t last_ts; /* simple packet blocks have no timestamp: they get the last one */
	const char *filter;
	pcap_t *dead; /* for the -w dumper and filter compilation */
	int dump_linktype;
	uint64_t dump_skipped;
	char err[PCAP_ERRBUF_SIZE + 64];
};

static void seterr(char *err, size_t errlen, const char *a, const char *b)
{
	if (errlen)
		snprintf(err, errlen, "%s%s%s", a, b && *b ? ": " : "", b ? b : "");
}

static int open_live(struct input *in, const struct input_opts *o, char *ebuf)
{
	int err;

	in->p = pcap_create(o->iface, ebuf);
	if (!in->p)
		return -ENODEV;
	if ((err = pcap_set_snaplen(in->p, o->snaplen ? o->snaplen : 262144)) ||
	    (err = pcap_set_promisc(in->p, o->promisc)) || (err = pcap_set_timeout(in->p, 100)) ||
	    (err = pcap_set_buffer_size(in->p, 32 << 20)))
		goto fail;
	pcap_set_tstamp_precision(in->p, PCAP_TSTAMP_PRECISION_NANO);
	err = pcap_activate(in->p);
	if (err < 0)
		goto fail;
	in->live = true;
	in->nano = pcap_get_tstamp_precision(in->p) == PCAP_TSTAMP_PRECISION_NANO;
	return 0;
fail:
	snprintf(ebuf, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(in->p));
	if (!*ebuf)
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "%s", pcap_statustostr(err));
	return err == PCAP_ERROR_PERM_DENIED ? -EPERM : -ENODEV;
}

static uint32_t ng32(bool be, const uint8_t *p)
{
	struct rd r;
	uint32_t v = 0;

	rd_init(&r, p, 4);
	if (be)
		rd_u32be(&r, &v);
	else
		rd_u32le(&r, &v);
	return v;
}

static int ng_u16(struct rd *r, bool be, uint16_t *v)
{
	return be ? rd_u16be(r, v) : rd_u16le(r, v);
}

static int ng_u32(struct rd *r, bool be, uint32_t *v)
{
	return be ? rd_u32be(r, v) : rd_u32le(r, v);
}

static void ng_ifs_clear(struct input *in)
{
	size_t i;

	for (i = 0; i < in->nifs; i++)
		if (in->ifs[i].prog_state == 1)
			pcap_freecode(&in->ifs[i].prog);
	free(in->ifs);
	in->ifs = NULL;
	in->nifs = 0;
}

static int ng_fail(struct input *in, const char *what)
{
	snprintf(in->err, sizeof(in->err), "pcapng: %s", what);
	return -EIO;
}

/*
 * Read the next block into in->blk. Returns 1 with *type and *body
 * (a reader over the block body, without header and trailing length), 0 at a clean
 * end of file, or -EIO.
 */
static int ng_block(struct input *in, uint32_t *type, struct rd *body)
{
	uint8_t hdr[12];
	uint32_t len;
	size_t n, hl = 8;

	n = fread(hdr, 1, 8, in->ng);
	if (n == 0 && feof(in->ng))
		return 0;
	if (n != 8)
		return ng_fail(in, "truncated block header");
	if (ng32(false, hdr) == NG_SHB) {
		/* the byte-order magic decides how to read everything, this length included */
		if (fread(hdr + 8, 1, 4, in->ng) != 4)
			return ng_fail(in, "truncated section header");
		if (ng32(false, hdr + 8) == NG_BOM)
			in->be = false;
		else if (ng32(true, hdr + 8) == NG_BOM)
			in->be = true;
		else
			return ng_fail(in, "bad byte-order magic");
		hl = 12;
		in->in_section = true;
	} else if (!in->in_section) {
		return ng_fail(in, "no section header");
	}
	*type = ng32(in->be, hdr);
	len = ng32(in->be, hdr + 4);
	if (len < 12 || len % 4 || len > NG_BLOCK_MAX || len < hl + 4)
		return ng_fail(in, "bad block length");
	if (in->blkcap < len) {
		uint8_t *nb = realloc(in->blk, len);

		if (!nb)
			return ng_fail(in, "out of memory");
		in->blk = nb;
		in->blkcap = len;
	}
	memcpy(in->blk, hdr, hl);
	if (fread(in->blk + hl, 1, len - hl, in->ng) != len - hl)
		return ng_fail(in, "truncated block");
	if (ng32(in->be, in->blk + len - 4) != len)
		return ng_fail(in, "block lengths disagree");
	rd_init(body, in->blk + 8, len - 12);
	return 1;
}

static int ng_shb(struct input *in, struct rd *b)
{
	uint16_t major, minor;
	char msg[64];

	if (rd_skip(b, 4) || ng_u16(b, in->be, &major) || ng_u16(b, in->be, &minor))
		return ng_fail(in, "truncated section header");
	if (major != 1) {
		snprintf(msg, sizeof(msg), "unsupported version %u.%u", major, minor);
		return ng_fail(in, msg);
	}
	ng_ifs_clear(in); /* interfaces are numbered per section */
	return 0;
}

static int ng_idb(struct input *in, struct rd *b)
{
	struct ng_if *nifs, *f;
	uint16_t lt, code, olen;

	if (in->nifs >= NG_IFS_MAX)
		return ng_fail(in, "too many interfaces");
	nifs = realloc(in->ifs, (in->nifs + 1) * sizeof(*nifs));
	if (!nifs)
		return ng_fail(in, "out of memory");
	in->ifs = nifs;
	f = &in->ifs[in->nifs];
	memset(f, 0, sizeof(*f));
	f->tsresol = 6;
	if (ng_u16(b, in->be, &lt) || rd_skip(b, 2) || ng_u32(b, in->be, &f->snaplen))
		return ng_fail(in, "truncated interface block");
	f->linktype = lt;
	/* options: if_tsresol (9) and if_tsoffset (14); the rest is skipped */
	while (!ng_u16(b, in->be, &code) && !ng_u16(b, in->be, &olen) && code) {
		struct rd v;

		if (rd_sub(b, olen, &v) || rd_skip(b, (4 - olen % 4) % 4))
			break;
		if (code == 9 && olen == 1) {
			rd_u8(&v, &f->tsresol);
		} else if (code == 14 && olen == 8) {
			uint32_t hi, lo;

			if (!ng_u32(&v, in->be, &hi) && !ng_u32(&v, in->be, &lo))
				f->tsoffset = (int64_t)((uint64_t)hi << 32 | lo);
		}
	}
	if (!in->nifs && in->first_linktype < 0)
		in->first_linktype = f->linktype;
	in->nifs++;
	return 0;
}

static uint64_t ng_ts_ns(const struct ng_if *f, uint64_t ts)
{
	uint64_t ns;
	unsigned int v = f ? f->tsresol : 6, i;

	if (v & 0x80) {
		v &= 0x7f;
		ns = v > 63 ? 0 : (uint64_t)(((unsigned __int128)ts * 1000000000u) >> v);
	} else if (v <= 9) {
		ns = ts;
		for (i = v; i < 9; i++)
			ns *= 10;
	} else {
		ns = ts;
		for (i = 9; i < v && ns; i++)
			ns /= 10;
	}
	return ns + (uint64_t)(f ? f->tsoffset : 0) * 1000000000u;
}

static bool ng_pass(struct input *in, struct ng_if *f, const struct pcap_pkthdr *h,
		    const uint8_t *data)
{
	if (!in->filter)
		return true;
	if (!f)
		return false;
	if (f->prog_state == 0) {
		pcap_t *dead = pcap_open_dead(f->linktype, 262144);

		f->prog_state = -1;
		if (dead && pcap_compile(dead, &f->prog, in->filter, 1, PCAP_NETMASK_UNKNOWN) == 0)
			f->prog_state = 1;
		if (dead)
			pcap_close(dead);
	}
	return f->prog_state == 1 && pcap_offline_filter(&f->prog, h, data);
}

static int ng_next(struct input *in, struct input_pkt *p)
{
	struct rd b;
	uint32_t type;
	int rc;

	while ((rc = ng_block(in, &type, &b)) == 1) {
		uint32_t id = 0, hi = 0, lo = 0, caplen, len;
		struct pcap_pkthdr h;
		const uint8_t *data = NULL;
		struct ng_if *f;

		if (type == NG_SHB) {
			if ((rc = ng_shb(in, &b)))
				return rc;
			continue;
		}
		if (type == NG_IDB) {
			if ((rc = ng_idb(in, &b)))
				return rc;
			continue;
		}
		if (type == NG_EPB) {
			if (ng_u32(&b, in->be, &id) || ng_u32(&b, in->be, &hi) ||
			    ng_u32(&b, in->be, &lo) || ng_u32(&b, in->be, &caplen) ||
			    ng_u32(&b, in->be, &len) || rd_ptr(&b, caplen, &data))
				return ng_fail(in, "truncated packet block");
		} else if (type == NG_OPB) {
			uint16_t id16;

			if (ng_u16(&b, in->be, &id16) || rd_skip(&b, 2) ||
			    ng_u32(&b, in->be, &hi) || ng_u32(&b, in->be, &lo) ||
			    ng_u32(&b, in->be, &caplen) || ng_u32(&b, in->be, &len) ||
			    rd_ptr(&b, caplen, &data))
				return ng_fail(in, "truncated packet block");
			id = id16;
		} else if (type == NG_SPB) {
			if (ng_u32(&b, in->be, &len))
				return ng_fail(in, "truncated packet block");
			caplen = len < rd_left(&b) ? len : (uint32_t)rd_left(&b);
			if (in->nifs && in->ifs[0].snaplen && caplen > in->ifs[0].snaplen)
				caplen = in->ifs[0].snaplen;
			rd_ptr(&b, caplen, &data);
		} else {
			continue; /* name resolution, statistics, custom... */
		}
		/* a packet of an undeclared interface is kept as bare data (as tshark does) */
		f = id < in->nifs ? &in->ifs[id] : NULL;
		h.caplen = caplen;
		h.len = len < caplen ? caplen : len;
		h.ts.tv_sec = 0;
		h.ts.tv_usec = 0;
		if (!ng_pass(in, f, &h, data))
			continue;
		if (type != NG_SPB)
			in->last_ts = ng_ts_ns(f, (uint64_t)hi << 32 | lo);
		p->ts_ns = in->last_ts;
		p->linktype = f ? f->linktype : -1;
		p->data = data;
		p->caplen = caplen;
		p->wirelen = h.len;
		if (in->dumper) {
			if (p->linktype == in->dump_linktype) {
				h.ts.tv_sec = (time_t)(p->ts_ns / 1000000000u);
				h.ts.tv_usec = (suseconds_t)(p->ts_ns % 1000000000u);
				pcap_dump((u_char *)in->dumper, &h, data);
			} else {
				in->dump_skipped++;
			}
		}
		return 1;
	}
	return rc;
}

/*
 * The link type of the first interface (for the -w file), then back to the start.
 * An error ends the scan, as it ends ng_next(), and is not reported here: the
 * real read meets it again and reports it then.
 */
static int ng_first_linktype(struct input *in)
{
	struct rd b;
	uint32_t type;
	int lt = -1;

	while (lt < 0 && ng_block(in, &type, &b) == 1) {
		if (type == NG_SHB && ng_shb(in, &b))
			break;
		if (type == NG_IDB) {
			if (ng_idb(in, &b))
				break;
			lt = in->ifs[in->nifs - 1].linktype;
		}
	}
	ng_ifs_clear(in);
	in->in_section = false;
	in->first_linktype = -1;
	in->err[0] = '\0';
	if (fseek(in->ng, 0, SEEK_SET))
		return -1;
	return lt;
}

/* Open fp as pcapng when it starts with a section header; returns 1 if so, 0 if not. */
static int ng_open(struct input *in, FILE *fp, const struct input_opts *o, char *err, size_t errlen)
{
	uint8_t m[4];
	char ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;

	if (fread(m, 1, 4, fp) != 4 || ng32(false, m) != NG_SHB) {
		if (fseek(fp, 0, SEEK_SET))
			return -EIO;
		return 0;
	}
	if (fseek(fp, 0, SEEK_SET))
		return -EIO;
	in->ng = fp;
	in->nano = true;
	in->first_linktype = -1;
	if (o->filter && *o->filter) {
		/* syntax errors are reported now, not at the first packet */
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);

		if (!dead || pcap_compile(dead, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(ebuf, sizeof(ebuf), "%s", dead ? pcap_geterr(dead) : "no memory");
			if (dead)
				pcap_close(dead);
			seterr(err, errlen, "bad filter", ebuf);
			return -EINVAL;
		}
		pcap_freecode(&prog);
		pcap_close(dead);
		in->filter = o->filter;
	}
	if (o->dump) {
		in->dump_linktype = ng_first_linktype(in);
		in->dead = pcap_open_dead_with_tstamp_precision(
			in->dump_linktype < 0 ? DLT_EN10MB : in->dump_linktype, 262144,
			PCAP_TSTAMP_PRECISION_NANO);
		in->dumper = in->dead ? pcap_dump_open(in->dead, o->dump) : NULL;
		if (!in->dumper) {
			seterr(err, errlen, "cannot write",
			       in->dead ? pcap_geterr(in->dead) : o->dump);
			return -EIO;
		}
	}
	return 1;
}

int input_open(struct input **out, const struct input_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	struct input *in = NULL;
	FILE *fp = o->fp;
	int ret = 0, rc;

	in = calloc(1, sizeof(*in));
	if (!in) {
		ret = -ENOMEM;
		seterr(err, errlen, "out of memory", NULL);
		goto out;
	}
	if (!fp && o->file && strcmp(o->file, "-")) {
		fp = fopen(o->file, "rb");
		if (!fp) {
			ret = -errno;
			seterr(err, errlen, "cannot read capture", strerror(errno));
			goto out;
		}
	}
	if (fp) {
		rc = ng_open(in, fp, o, err, errlen);
		if (rc < 0) {
			if (!in->ng)
				fclose(fp);
			if (rc == -EIO && !in->dumper && !*err)
				seterr(err, errlen, "cannot read capture", strerror(EIO));
			ret = rc;
			goto out;
		}
		if (rc == 1)
			goto out; /* pcapng: our reader owns fp */
		in->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO,
								 ebuf);
		if (!in->p) {
			fclose(fp);
			ret = -EINVAL;
			seterr(err, errlen, "cannot read capture", ebuf);
			goto out;
		}
		in->nano = true;
	} else if (o->file) {
		in->p = pcap_open_offline_with_tstamp_precision(o->file, PCAP_TSTAMP_PRECISION_NANO,
								ebuf);
		if (!in->p) {
			ret = -EINVAL;
			seterr(err, errlen, "cannot read capture", ebuf);
			goto out;
		}
		in->nano = true;
	} else if (o->iface) {
		ret = open_live(in, o, ebuf);
		if (ret) {
			seterr(err, errlen, "cannot capture", ebuf);
			goto out;
		}
	} else {
		ret = -EINVAL;
		seterr(err, errlen, "no input: give a file or an interface", NULL);
		goto out;
	}
	if (o->filter && *o->filter) {
		if (pcap_compile(in->p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			ret = -EINVAL;
			seterr(err, errlen, "bad filter", pcap_geterr(in->p));
			goto out;
		}
		if (pcap_setfilter(in->p, &prog) < 0) {
			pcap_freecode(&prog);
			ret = -EINVAL;
			seterr(err, errlen, "cannot set filter", pcap_geterr(in->p));
			goto out;
		}
		pcap_freecode(&prog);
	}
	if (o->dump) {
		in->dumper = pcap_dump_open(in->p, o->dump);
		if (!in->dumper) {
			ret = -EIO;
			seterr(err, errlen, "cannot write", pcap_geterr(in->p));
			goto out;
		}
	}
out:
	if (ret) {
		input_close(in);
		return ret;
	}
	*out = in;
	return 0;
}

int input_next(struct input *in, struct input_pkt *p)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (in->ng)
		return ng_next(in, p);
	rc = pcap_next_ex(in->p, &h, &data);
	if (rc == 1) {
		p->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull +
			   (uint64_t)h->ts.tv_usec * (in->nano ? 1 : 1000);
		p->linktype = pcap_datalink(in->p);
		p->data = data;
		p->caplen = h->caplen;
		p->wirelen = h->len < h->caplen ? h->caplen : h->len;
		if (in->dumper)
			pcap_dump((u_char *)in->dumper, h, data);
		return 1;
	}
	if (rc == 0)
		return -EAGAIN;
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	snprintf(in->err, sizeof(in->err), "%s", pcap_geterr(in->p));
	return -EIO;
}

int input_linktype(const struct input *in)
{
	return in->ng ? in->first_linktype : pcap_datalink(in->p);
}

uint64_t input_dump_skipped(const struct input *in)
{
	return in->dump_skipped;
}

const char *input_error(const struct input *in)
{
	return in->err;
}

bool input_is_live(const struct input *in)
{
	return in->live;
}

int input_drops(struct input *in, uint64_t *drops)
{
	struct pcap_stat st;

	if (!in->live || pcap_stats(in->p, &st) < 0)
		return -EINVAL;
	*drops = (uint64_t)st.ps_drop + st.ps_ifdrop;
	return 0;
}

void input_break(struct input *in)
{
	if (in->p)
		pcap_breakloop(in->p);
}

void input_close(struct input *in)
{
	if (!in)
		return;
	if (in->dumper) {
		pcap_dump_flush(in->dumper);
		pcap_dump_close(in->dumper);
	}
	if (in->p)
		pcap_close(in->p);
	if (in->dead)
		pcap_close(in->dead);
	if (in->ng)
		fclose(in->ng);
	ng_ifs_clear(in);
	free(in->blk);
	free(in);
}

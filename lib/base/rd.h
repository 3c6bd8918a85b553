/* SPDX-License-Identifier: GPL-2.0 */
/* rd: the one bounds-checked reader for untrusted bytes (packets, pcap records, app payloads). */
#ifndef CG_BASE_RD_H
#define CG_BASE_RD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * A cursor over a borrowed buffer: p[0..len) with the read position off.
 * Every getter either consumes the bytes and returns 0, or returns -EINVAL
 * and consumes nothing (out-parameters are written only on success). The
 * reader never owns p; the caller keeps it alive while the reader is used.
 *
 * Typical use (OpenSSH style):
 *	struct rd r;
 *	rd_init(&r, buf, len);
 *	if ((err = rd_u16be(&r, &a)) || (err = rd_u32be(&r, &b)))
 *		goto out;
 */
struct rd {
	const uint8_t *p;
	size_t len, off;
};

static inline void rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
}

/* Bytes not yet consumed. */
static inline size_t rd_left(const struct rd *r)
{
	return r->len - r->off;
}

/* Pointer to the current position (valid for rd_left() bytes; do not index past that). */
static inline const uint8_t *rd_cur(const struct rd *r)
{
	return r->p + r->off;
}

static inline int rd_skip(struct rd *r, size_t n)
{
	if (n > rd_left(r))
		return -EINVAL;
	r->off += n;
	return 0;
}

/* Absolute position; 0 or -EINVAL if pos > len. */
static inline int rd_seek(struct rd *r, size_t pos)
{
	if (pos > r->len)
		return -EINVAL;
	r->off = pos;
	return 0;
}

static inline int rd_u8(struct rd *r, uint8_t *v)
{
	if (rd_left(r) < 1)
		return -EINVAL;
	*v = r->p[r->off++];
	return 0;
}

static inline int rd_u16be(struct rd *r, uint16_t *v)
{
	if (rd_left(r) < 2)
		return -EINVAL;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return 0;
}

static inline int rd_u24be(struct rd *r, uint32_t *v)
{
	if (rd_left(r) < 3)
		return -EINVAL;
	*v = (uint32_t)r->p[r->off] << 16 | (uint32_t)r->p[r->off + 1] << 8 | r->p[r->off + 2];
	r->off += 3;
	return 0;
}

static inline int rd_u32be(struct rd *r, uint32_t *v)
{
	if (rd_left(r) < 4)
		return -EINVAL;
	*v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
	     (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
	r->off += 4;
	return 0;
}

static inline int rd_u64be(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (rd_left(r) < 8)
		return -EINVAL;
	for (i = 0; i < 8; i++)
		x = x << 8 | r->p[r->off + i];
	r->off += 8;
	*v = x;
	return 0;
}

static inline int rd_u16le(struct rd *r, uint16_t *v)
{
	if (rd_left(r) < 2)
		return -EINVAL;
	*v = (uint16_t)(r->p[r->off + 1] << 8 | r->p[r->off]);
	r->off += 2;
	return 0;
}

static inline int rd_u32le(struct rd *r, uint32_t *v)
{
	if (rd_left(r) < 4)
		return -EINVAL;
	*v = (uint32_t)r->p[r->off + 3] << 24 | (uint32_t)r->p[r->off + 2] << 16 |
	     (uint32_t)r->p[r->off + 1] << 8 | r->p[r->off];
	r->off += 4;
	return 0;
}

/* Copy n bytes to dst. */
static inline int rd_bytes(struct rd *r, void *dst, size_t n)
{
	if (n > rd_left(r))
		return -EINVAL;
	if (n)
		memcpy(dst, r->p + r->off, n);
	r->off += n;
	return 0;
}

/* Borrow n bytes without copying: *out points into the reader's buffer. */
static inline int rd_ptr(struct rd *r, size_t n, const uint8_t **out)
{
	if (n > rd_left(r))
		return -EINVAL;
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

/* A sub-reader over the next n bytes (consumed from r). */
static inline int rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	if (n > rd_left(r))
		return -EINVAL;
	rd_init(sub, r->p + r->off, n);
	r->off += n;
	return 0;
}

/* Peeks: like the getters but never consume. */
static inline int rd_peek_u8(const struct rd *r, size_t at, uint8_t *v)
{
	if (at >= rd_left(r))
		return -EINVAL;
	*v = r->p[r->off + at];
	return 0;
}

static inline int rd_peek_u16be(const struct rd *r, size_t at, uint16_t *v)
{
	if (rd_left(r) < 2 || at > rd_left(r) - 2)
		return -EINVAL;
	*v = (uint16_t)(r->p[r->off + at] << 8 | r->p[r->off + at + 1]);
	return 0;
}

static inline int rd_peek_u32be(const struct rd *r, size_t at, uint32_t *v)
{
	struct rd t = *r;

	if (rd_skip(&t, at))
		return -EINVAL;
	return rd_u32be(&t, v);
}

#endif

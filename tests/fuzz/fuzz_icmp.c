// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for icmp_too_big: arbitrary inner bytes and MTUs; what it builds must be valid.
 *
 * Input: mtu (2 bytes, big-endian), then the inner packet. Whatever comes
 * back is within its bounds, and a message is checked field by field and
 * with an independent checksum.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tunnel/icmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t from4[16] = { [10] = 0xff, [11] = 0xff, 100, 64, 0, 1 };
static const uint8_t from6[16] = { 0xfd, 0, 0, 0x64, [15] = 1 };

static uint32_t fold(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i < n; i++)
		s += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static void check_v4(const uint8_t *in, size_t len, unsigned int mtu, const uint8_t *m, int n)
{
	size_t q = (size_t)n - 28;

	if (n > ICMP_TOO_BIG_MAX_V4 || (q < len && q != ICMP_TOO_BIG_MAX_V4 - 28) || q > len ||
	    m[0] != 0x45 || (m[2] << 8 | m[3]) != n || m[9] != 1 || m[20] != 3 || m[21] != 4 ||
	    (unsigned int)(m[26] << 8 | m[27]) != mtu || memcmp(m + 16, in + 12, 4) ||
	    memcmp(m + 12, from4 + 12, 4) || fold(m, 20, 0) != 0xffff ||
	    fold(m + 20, (size_t)n - 20, 0) != 0xffff || memcmp(m + 28, in, q) || !(in[6] & 0x40))
		abort();
}

static void check_v6(const uint8_t *in, size_t len, unsigned int mtu, const uint8_t *m, int n)
{
	size_t q = (size_t)n - 48;
	uint32_t s = fold(m + 8, 32, 0);

	s = fold(
		(const uint8_t[]){ 0, 0, (uint8_t)((n - 40) >> 8), (uint8_t)(n - 40), 0, 0, 0, 58 },
		8, s);
	if (n > ICMP_TOO_BIG_MAX || (q < len && q != ICMP_TOO_BIG_MAX - 48) || q > len ||
	    m[0] != 0x60 || m[6] != 58 || (m[4] << 8 | m[5]) != n - 40 || m[40] != 2 ||
	    m[41] != 0 || ((uint32_t)m[44] << 24 | m[45] << 16 | m[46] << 8 | m[47]) != mtu ||
	    memcmp(m + 8, from6, 16) || memcmp(m + 24, in + 8, 16) ||
	    fold(m + 40, (size_t)n - 40, s) != 0xffff || memcmp(m + 48, in, q) || in[8] == 0xff)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[ICMP_TOO_BIG_MAX + 1];
	const uint8_t *in = data + 2;
	size_t len;
	unsigned int mtu;
	int n;

	if (size < 2)
		return 0;
	mtu = (unsigned int)(data[0] << 8 | data[1]);
	len = size - 2;
	n = icmp_too_big(in, len, mtu, len && in[0] >> 4 == 6 ? from6 : from4, out,
			 ICMP_TOO_BIG_MAX);
	if (n < -4095 || n > ICMP_TOO_BIG_MAX)
		abort();
	if (n > 0 && len <= mtu)
		abort();
	if (n > 0 && in[0] >> 4 == 4)
		check_v4(in, len, mtu, out, n);
	else if (n > 0)
		check_v6(in, len, mtu, out, n);
	return 0;
}

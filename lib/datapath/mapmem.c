// SPDX-License-Identifier: GPL-2.0
/* A BPF_F_MMAPABLE array map, mapped whole into user space. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/datapath/mapmem.h"

void *mapmem_open(int map_fd, size_t value_size, uint32_t max_entries, size_t *len)
{
	struct bpf_map_info info;
	__u32 info_len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	size_t n;
	void *p;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &info_len))
		return NULL;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != value_size || value_size % 8 || info.max_entries != max_entries ||
	    !(info.map_flags & BPF_F_MMAPABLE) || page <= 0) {
		errno = EINVAL;
		return NULL;
	}
	n = (size_t)max_entries * value_size;
	n = (n + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	*len = n;
	return p;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* A BPF_F_MMAPABLE array map, mapped whole into user space. */
#ifndef CG_DATAPATH_MAPMEM_H
#define CG_DATAPATH_MAPMEM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Maps the values of the array @map_fd (MAP_SHARED, read and write) and
 * writes the mapping's length to *@len. The map must be a BPF_MAP_TYPE_ARRAY
 * of @max_entries values of @value_size bytes (a multiple of 8, so values
 * are contiguous), created BPF_F_MMAPABLE: else NULL with errno EINVAL, or
 * NULL with what the kernel said. munmap(p, *len) releases it; the mapping
 * outlives the fd.
 */
void *mapmem_open(int map_fd, size_t value_size, uint32_t max_entries, size_t *len);

#endif

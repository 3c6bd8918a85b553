/* SPDX-License-Identifier: GPL-2.0 */
/* bpf_bound: a bound the verifier sees, where the compiler would drop the check. */
#ifndef CG_BPF_BOUND_H
#define CG_BPF_BOUND_H

/*
 * Make @v provably <= @mask for the verifier: clang keeps an unbounded copy
 * of a checked value (an argument, a loop index) and uses that for the
 * access otherwise.
 */
#define bpf_bound(v, mask) asm volatile("%[x] &= " #mask : [x] "+r"(v))

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A region's "written since its reset" bits, for the backends that keep
 * them in user space (mprotect, userfaultfd). Set and cleared under the
 * backend's lock, read without it (GetWriteWatch() without reset): atomic.
 */
#ifndef DIRTYRATE_WRITEWATCH_PAGE_BITS_H
#define DIRTYRATE_WRITEWATCH_PAGE_BITS_H

#include <stddef.h>

#define BITS_PER_WORD	(8 * sizeof(unsigned long))

static inline size_t page_bits_words(size_t npages)
{
	return (npages + BITS_PER_WORD - 1) / BITS_PER_WORD;
}

static inline void page_bit_set(unsigned long *bits, size_t i)
{
	__atomic_fetch_or(&bits[i / BITS_PER_WORD], 1UL << (i % BITS_PER_WORD), __ATOMIC_RELAXED);
}

static inline void page_bit_clear(unsigned long *bits, size_t i)
{
	__atomic_fetch_and(&bits[i / BITS_PER_WORD], ~(1UL << (i % BITS_PER_WORD)), __ATOMIC_RELAXED);
}

static inline int page_bit_test(const unsigned long *bits, size_t i)
{
	return !!(__atomic_load_n(&bits[i / BITS_PER_WORD], __ATOMIC_RELAXED) &
		  (1UL << (i % BITS_PER_WORD)));
}

/* The first set bit in [i, end), or end. */
static inline size_t page_bit_next(const unsigned long *bits, size_t i, size_t end)
{
	while (i < end) {
		unsigned long w = __atomic_load_n(&bits[i / BITS_PER_WORD], __ATOMIC_RELAXED);

		w &= ~0UL << (i % BITS_PER_WORD);
		if (w) {
			i = i / BITS_PER_WORD * BITS_PER_WORD + (size_t)__builtin_ctzl(w);
			return i < end ? i : end;
		}
		i = (i / BITS_PER_WORD + 1) * BITS_PER_WORD;
	}
	return end;
}

#endif /* DIRTYRATE_WRITEWATCH_PAGE_BITS_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * soft-dirty-check: proves the booted kernel tracks soft-dirty pages
 * (CONFIG_MEM_SOFT_DIRTY), the mechanism everything in dirtyrate builds on.
 * A written page must show pagemap bit 55; "4" into /proc/self/clear_refs
 * must clear it; the next write must set it again. TAP on stdout; linked
 * statically to run in the test VM's initramfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_PRESENT (1ULL << 63)

static int test_no;
static int failed;

static void result(int ok, const char *what)
{
	printf("%s %d %s\n", ok ? "ok" : "not ok", ++test_no, what);
	failed |= !ok;
}

static void bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	fflush(stdout);
	_exit(1);
}

static uint64_t pagemap_entry(int fd, const volatile char *page, long page_size)
{
	uint64_t entry;
	off_t off = (off_t)((uintptr_t)page / page_size) * sizeof(entry);

	if (pread(fd, &entry, sizeof(entry), off) != sizeof(entry))
		bail("read /proc/self/pagemap");
	return entry;
}

static void clear_soft_dirty(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);

	if (fd < 0)
		bail("open /proc/self/clear_refs");
	if (write(fd, "4", 1) != 1)
		bail("write 4 to /proc/self/clear_refs");
	close(fd);
}

int main(void)
{
	long page_size = sysconf(_SC_PAGESIZE);
	struct utsname uts;
	volatile char *page;
	uint64_t entry;
	int fd;

	printf("TAP version 13\n1..4\n");
	if (uname(&uts) == 0)
		printf("# kernel %s %s\n", uts.release, uts.version);

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		bail("open /proc/self/pagemap");
	page = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		bail("mmap");

	page[0] = 1;
	entry = pagemap_entry(fd, page, page_size);
	result(!!(entry & PM_PRESENT), "a written page is present in pagemap");
	result(!!(entry & PM_SOFT_DIRTY), "a written page is soft-dirty (pagemap bit 55)");

	clear_soft_dirty();
	entry = pagemap_entry(fd, page, page_size);
	result(!(entry & PM_SOFT_DIRTY), "clear_refs 4 clears the soft-dirty bit");

	page[0] = 2;
	entry = pagemap_entry(fd, page, page_size);
	result(!!(entry & PM_SOFT_DIRTY), "writing the page again sets the soft-dirty bit");

	return failed;
}

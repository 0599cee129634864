/*
 * Machines as a user of the API relies on them: several machines in one
 * process that do not see each other, boots and teardowns that leak
 * nothing, bus errors (-EFAULT) for accesses outside RAM, the CPU and RAM
 * views of each platform, threads entering and leaving machines (CPU ids),
 * and configurations that are refused with a message saying why.
 *
 * cmocka asserts only on the main thread: worker threads record what they
 * saw in their struct and the main thread asserts after pthread_join.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/mm.h"
#include "helpers.h"

/* Under valgrind (--track-origins=yes, as CMakeLists.txt sets it) every
 * boot costs about a second per GiB of RAM mapped: loops are shortened. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define PAGE_BYTES 4096UL

/* The PC layout (docs/machine.md): RAM below 640 KiB, from 1 MiB to
 * min(RAM, 3 GiB), and what is above 3 GiB remapped from 4 GiB up. */
#define LEGACY_HOLE 0xa0000ULL
#define LEGACY_END  0x100000ULL
#define PCI_HOLE    GiB(3)
#define HIGH_BASE   GiB(4)

/* One past the last byte of RAM of a machine with @ram installed. */
static uint64_t ram_top(uint64_t ram)
{
	return ram > PCI_HOLE ? HIGH_BASE + (ram - PCI_HOLE) : ram;
}

static int contains(const char *text, const char *needle)
{
	return strstr(text, needle) != NULL;
}

/* ---- 1. Two machines in one process ---------------------------------- */

static void test_two_machines_isolated(void **state)
{
	static const char a_cmdline[] = "loglevel=4 machine_a_marker=1";
	static const char b_cmdline[] = "machine_b_marker=2";
	struct dmasim_machine *a, *b;
	struct page *pages[32], *big;
	char *b_buddy, *b_mem, *b_zone, *b_log, *a_mem, *t;
	uint8_t pa[256], pb[256], buf[256];
	uint64_t phys;

	(void)state;
	a = test_boot(GiB(8), a_cmdline);
	b = test_boot(MiB(512), b_cmdline);
	/* Creating a machine enters it only when the thread is in none. */
	assert_ptr_equal(dmasim_current(), a);

	b_buddy = test_read(b, "/proc/buddyinfo");
	b_mem = test_read(b, "/proc/meminfo");
	b_zone = test_read(b, "/proc/zoneinfo");
	b_log = test_dmesg(b);
	a_mem = test_read(a, "/proc/meminfo");

	/* Work in A: allocate, write, and log a warning only A has. */
	assert_ptr_equal(dmasim_enter(a), a);
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		pages[i] = alloc_pages(GFP_KERNEL, 0);
		assert_non_null(pages[i]);
		memset(page_address(pages[i]), 0x40 + (int)i, PAGE_BYTES);
	}
	big = alloc_pages(GFP_KERNEL, 10);
	assert_non_null(big);
	memset(page_address(big), 0x77, PAGE_BYTES << 10);
	assert_null(alloc_pages(GFP_KERNEL, 11));
	dmasim_clock_advance(a, 3000000000ULL);

	/* A changed... */
	t = test_read(a, "/proc/meminfo");
	assert_string_not_equal(t, a_mem);
	free(t);
	t = test_dmesg(a);
	assert_true(contains(t, "] Command line: loglevel=4 machine_a_marker=1\n"));
	assert_true(contains(t, "\"machine_a_marker=1\""));
	assert_true(contains(t, "WARNING: alloc_pages: order 11 >= MAX_ORDER"));
	free(t);
	assert_int_equal(dmasim_clock_ns(a), 3000000000ULL);

	/* ...and B did not. */
	t = test_read(b, "/proc/buddyinfo");
	assert_string_equal(t, b_buddy);
	free(t);
	t = test_read(b, "/proc/meminfo");
	assert_string_equal(t, b_mem);
	free(t);
	t = test_read(b, "/proc/zoneinfo");
	assert_string_equal(t, b_zone);
	free(t);
	t = test_dmesg(b);
	assert_string_equal(t, b_log);
	assert_false(contains(t, "machine_a_marker"));
	assert_false(contains(t, "WARNING"));
	assert_true(contains(t, "] Command line: machine_b_marker=2\n"));
	free(t);
	assert_int_equal(dmasim_clock_ns(b), 0);

	/* Physical memory: the same address is a different byte in each. */
	memset(pa, 0xa5, sizeof(pa));
	memset(pb, 0x5b, sizeof(pb));
	assert_int_equal(dmasim_phys_write(a, MiB(2), pa, sizeof(pa)), 0);
	assert_int_equal(dmasim_phys_read(b, MiB(2), buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(dmasim_phys_write(b, MiB(2), pb, sizeof(pb)), 0);
	assert_int_equal(dmasim_phys_read(a, MiB(2), buf, sizeof(buf)), 0);
	assert_memory_equal(buf, pa, sizeof(pa));
	assert_int_equal(dmasim_phys_read(b, MiB(2), buf, sizeof(buf)), 0);
	assert_memory_equal(buf, pb, sizeof(pb));

	/* A's GFP_KERNEL page is in its Normal zone (above 4 GiB): A's bus
	 * sees what its CPU wrote, B has no RAM there at all. */
	phys = page_to_phys(pages[3]);
	assert_true(phys >= HIGH_BASE && phys < ram_top(GiB(8)));
	assert_int_equal(dmasim_phys_read(a, phys, buf, 16), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0x43);
	assert_int_equal(dmasim_phys_read(b, phys, buf, 16), -EFAULT);

	t = test_read(a, "/proc/cmdline");
	assert_string_equal(t, "loglevel=4 machine_a_marker=1\n");
	free(t);
	t = test_read(b, "/proc/cmdline");
	assert_string_equal(t, "machine_b_marker=2\n");
	free(t);

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		__free_pages(pages[i], 0);
	__free_pages(big, 10);
	free(b_buddy);
	free(b_mem);
	free(b_zone);
	free(b_log);
	free(a_mem);
	dmasim_machine_destroy(b);
	/* Destroying a machine the thread is not in leaves it where it is. */
	assert_ptr_equal(dmasim_current(), a);
	dmasim_machine_destroy(a);
	assert_null(dmasim_current());
	assert_int_equal(dmasim_cpu_id(), -1);
}

/* Machines can be destroyed in any order; the survivor keeps working. */
static void test_destroy_in_any_order(void **state)
{
	struct dmasim_machine *a, *b;
	struct page *p;
	char *t;

	(void)state;
	a = test_boot(MiB(512), "first");
	b = test_boot(MiB(256), "second");
	assert_ptr_equal(dmasim_enter(b), a);
	dmasim_machine_destroy(a);
	assert_ptr_equal(dmasim_current(), b);
	assert_int_equal(dmasim_cpu_id(), 0);
	p = alloc_page(GFP_KERNEL);
	assert_non_null(p);
	assert_true(page_to_phys(p) < MiB(256));
	__free_page(p);
	t = test_read(b, "/proc/cmdline");
	assert_string_equal(t, "second\n");
	free(t);
	dmasim_machine_destroy(b);
	assert_null(dmasim_current());
}

/* ---- 2. Create and destroy many times (valgrind/LSan find leaks) ----- */

static void use_machine(struct dmasim_machine *m, uint64_t ram, bool coherent)
{
	struct page *p;
	uint8_t v = 0;
	char *t;

	assert_ptr_equal(dmasim_current(), m);
	p = alloc_pages(GFP_KERNEL, 1);
	assert_non_null(p);
	memset(page_address(p), 0xc3, 2 * PAGE_BYTES);
	assert_int_equal(dmasim_phys_read(m, page_to_phys(p), &v, 1), 0);
	assert_int_equal(v, coherent ? 0xc3 : 0);
	__free_pages(p, 1);
	assert_int_equal(dmasim_phys_write(m, ram_top(ram) - 1, &v, 1), 0);
	t = test_read(m, "/proc/buddyinfo");
	free(t);
	t = test_dmesg(m);
	free(t);
}

static void test_create_destroy_loop(void **state)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m;
	char err[256];

	(void)state;
	/* Under valgrind the 8 GiB boots are left to the other tests. */
	for (int i = 0; i < (RUNNING_ON_VALGRIND ? 0 : 50); i++) {
		m = test_boot(GiB(8), i % 2 ? "quiet log_buf_len=1M" : NULL);
		use_machine(m, GiB(8), true);
		dmasim_machine_destroy(m);
		assert_null(dmasim_current());
	}
	for (int i = 0; i < 6; i++) {
		m = test_boot_platform(MiB(512), "mem=384M",
				       i % 2 ? DMASIM_PLATFORM_ARM64
					     : DMASIM_PLATFORM_X86);
		/* mem= limits the kernel, not the RAM on the bus. */
		use_machine(m, MiB(512), i % 2 == 0);
		dmasim_machine_destroy(m);
	}
	/* A boot that fails half-way frees what it had set up. */
	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.cmdline = "mem=1M";
	cfg.nr_cpus = 2;
	for (int i = 0; i < 5; i++) {
		m = NULL;
		assert_int_equal(dmasim_machine_create(&cfg, &m, err, sizeof(err)),
				 -EINVAL);
		assert_null(m);
		assert_null(dmasim_current());
	}
}

/* ---- 4. Bus errors ---------------------------------------------------- */

static void expect_fault(struct dmasim_machine *m, uint64_t phys, size_t len)
{
	uint8_t buf[16], orig[16];
	int ret;

	memset(buf, 0xee, sizeof(buf));
	memcpy(orig, buf, sizeof(buf));
	ret = dmasim_phys_read(m, phys, buf, len);
	if (ret != -EFAULT)
		fail_msg("phys_read(%#llx, %zu) = %d, want -EFAULT",
			 (unsigned long long)phys, len, ret);
	/* A bus error transfers nothing. */
	assert_memory_equal(buf, orig, sizeof(buf));
	ret = dmasim_phys_write(m, phys, buf, len);
	if (ret != -EFAULT)
		fail_msg("phys_write(%#llx, %zu) = %d, want -EFAULT",
			 (unsigned long long)phys, len, ret);
}

static void expect_rw(struct dmasim_machine *m, uint64_t phys, size_t len)
{
	uint8_t in[64], out[64];
	int ret;

	assert_true(len <= sizeof(in));
	for (size_t i = 0; i < len; i++)
		in[i] = (uint8_t)(phys * 31 + i * 7 + 1);
	ret = dmasim_phys_write(m, phys, in, len);
	if (ret)
		fail_msg("phys_write(%#llx, %zu) = %d, want 0",
			 (unsigned long long)phys, len, ret);
	memset(out, 0, sizeof(out));
	ret = dmasim_phys_read(m, phys, out, len);
	if (ret)
		fail_msg("phys_read(%#llx, %zu) = %d, want 0",
			 (unsigned long long)phys, len, ret);
	assert_memory_equal(in, out, len);
}

static void test_bus_errors_8g(void **state)
{
	struct dmasim_machine *m;
	uint64_t top = ram_top(GiB(8));
	uint8_t p[4] = { 1, 2, 3, 4 }, q[4] = { 9, 9, 9, 9 }, r[4];
	uint8_t big[1];

	(void)state;
	m = test_boot(GiB(8), NULL);
	assert_int_equal(top, 0x240000000ULL);

	/* Holes. */
	expect_fault(m, PCI_HOLE, 1);		/* 0xC0000000: the PCI hole */
	expect_fault(m, PCI_HOLE + MiB(512), 8);
	expect_fault(m, HIGH_BASE - 1, 1);
	expect_fault(m, LEGACY_HOLE, 1);	/* 0xA0000: VGA window */
	expect_fault(m, 0xc0000, 4);		/* option ROMs */
	expect_fault(m, LEGACY_END - 1, 1);
	/* Accesses that run from RAM into a hole or off the end. */
	expect_fault(m, LEGACY_HOLE - 2, 4);
	expect_fault(m, PCI_HOLE - 2, 4);
	expect_fault(m, HIGH_BASE - 2, 4);	/* from a hole into RAM */
	expect_fault(m, top - 2, 4);
	/* Beyond RAM. */
	expect_fault(m, top, 1);
	expect_fault(m, top + GiB(1), 16);
	expect_fault(m, 1ULL << 52, 1);
	/* Where phys + len overflows: an error, not a wrap to address 0. */
	expect_fault(m, UINT64_MAX, 2);
	expect_fault(m, UINT64_MAX, 1);
	expect_fault(m, UINT64_MAX - 7, 16);
	assert_int_equal(dmasim_phys_read(m, PAGE_BYTES, big, SIZE_MAX), -EFAULT);
	assert_int_equal(dmasim_phys_write(m, 0, big, SIZE_MAX), -EFAULT);
	assert_int_equal(dmasim_phys_read(m, 0, big, (size_t)top + 1), -EFAULT);

	/* Valid RAM, including accesses that end exactly at a range's end. */
	expect_rw(m, 0, 16);
	expect_rw(m, 0x9fc00, 16);		/* the EBDA: reserved, but RAM */
	expect_rw(m, LEGACY_HOLE - 16, 16);
	expect_rw(m, LEGACY_END, 16);
	expect_rw(m, PAGE_BYTES - 8, 16);	/* across a page boundary */
	expect_rw(m, PCI_HOLE - 64, 64);
	expect_rw(m, PCI_HOLE - 1, 1);
	expect_rw(m, HIGH_BASE, 16);
	expect_rw(m, top - 16, 16);
	expect_rw(m, top - 1, 1);

	/* A write that faults changes nothing, even the part inside RAM. */
	assert_int_equal(dmasim_phys_write(m, PCI_HOLE - 4, p, 4), 0);
	assert_int_equal(dmasim_phys_write(m, PCI_HOLE - 2, q, 4), -EFAULT);
	assert_int_equal(dmasim_phys_read(m, PCI_HOLE - 4, r, 4), 0);
	assert_memory_equal(r, p, 4);
	dmasim_machine_destroy(m);
}

/* (The 3 GiB and 3 GiB + 1 MiB edges are in test_bigmachine.c.) */
static void test_bus_errors_512m(void **state)
{
	struct dmasim_machine *m;
	uint8_t *buf, *back;

	(void)state;
	/* 512 MiB: no PCI hole below it, no RAM above it. */
	m = test_boot(MiB(512), NULL);
	expect_rw(m, MiB(512) - 16, 16);
	expect_fault(m, MiB(512) - 8, 16);
	expect_fault(m, MiB(512), 1);
	expect_fault(m, PCI_HOLE, 1);
	expect_fault(m, HIGH_BASE, 1);
	expect_fault(m, LEGACY_HOLE, 1);
	/* A larger transfer reads back what was written. */
	buf = malloc(MiB(1));
	back = malloc(MiB(1));
	assert_non_null(buf);
	assert_non_null(back);
	for (size_t i = 0; i < MiB(1); i++)
		buf[i] = (uint8_t)(i * 13 + (i >> 12));
	assert_int_equal(dmasim_phys_write(m, MiB(100) + 123, buf, MiB(1)), 0);
	assert_int_equal(dmasim_phys_read(m, MiB(100) + 123, back, MiB(1)), 0);
	assert_memory_equal(buf, back, MiB(1));
	free(buf);
	free(back);
	dmasim_machine_destroy(m);
}

/* ---- 5. CPU view and RAM view per platform ---------------------------- */

static void test_x86_views_coherent(void **state)
{
	static const char dev[] = "written by a bus master";
	static const char cpu[] = "written by the CPU";
	struct dmasim_machine *m;
	struct page *p;
	char buf[64];
	uint8_t *va;
	uint64_t phys;

	(void)state;
	m = test_boot(MiB(512), NULL);
	/* On x86 the CPU view is RAM itself: each side sees the other's
	 * writes at once, with nothing to flush. */
	assert_int_equal(dmasim_phys_write(m, MiB(3), dev, sizeof(dev)), 0);
	assert_memory_equal(phys_to_virt(MiB(3)), dev, sizeof(dev));
	memcpy(phys_to_virt(MiB(3) + 256), cpu, sizeof(cpu));
	assert_int_equal(dmasim_phys_read(m, MiB(3) + 256, buf, sizeof(cpu)), 0);
	assert_memory_equal(buf, cpu, sizeof(cpu));

	/* The address translations agree with each other. */
	p = alloc_page(GFP_KERNEL);
	assert_non_null(p);
	va = page_address(p);
	phys = page_to_phys(p);
	assert_ptr_equal(va, phys_to_virt(phys));
	assert_int_equal(virt_to_phys(va), phys);
	assert_int_equal(virt_to_phys(va + 100), phys + 100);
	assert_ptr_equal(virt_to_page(va + 100), p);
	assert_ptr_equal(pfn_to_page(page_to_pfn(p)), p);
	assert_int_equal(phys % PAGE_BYTES, 0);
	/* A device writing into the page is seen through page_address(). */
	assert_int_equal(dmasim_phys_write(m, phys + 8, dev, sizeof(dev)), 0);
	assert_memory_equal(va + 8, dev, sizeof(dev));
	__free_page(p);
	dmasim_machine_destroy(m);
}

/*
 * arm64 (non-coherent): src/hw/ram.c maps two memfds, the RAM view (what
 * dmasim_phys_read/write access) and a separate CPU view standing for the
 * caches (what phys_to_virt() and page_address() point into). Both start
 * zeroed. Nothing copies between them yet (docs/machine.md: cache
 * maintenance arrives with the DMA API), so a device's write is not seen
 * by the CPU and a CPU store is not seen by a device. The address map and
 * the bus errors are x86's on both platforms.
 */
static void test_arm64_views_separate(void **state)
{
	static const char dev[] = "written by a bus master";
	static const char cpu[] = "written by the CPU";
	static const char zero[64];
	struct dmasim_machine *m, *x;
	struct page *p;
	char buf[64];
	uint64_t phys;

	(void)state;
	m = test_boot_platform(MiB(512), NULL, DMASIM_PLATFORM_ARM64);
	assert_int_equal(dmasim_phys_read(m, MiB(3), buf, sizeof(buf)), 0);
	assert_memory_equal(buf, zero, sizeof(buf));
	assert_memory_equal(phys_to_virt(MiB(3)), zero, sizeof(zero));

	/* Device -> RAM: the bus reads it back, the CPU still sees zeros. */
	assert_int_equal(dmasim_phys_write(m, MiB(3), dev, sizeof(dev)), 0);
	assert_int_equal(dmasim_phys_read(m, MiB(3), buf, sizeof(dev)), 0);
	assert_memory_equal(buf, dev, sizeof(dev));
	assert_memory_equal(phys_to_virt(MiB(3)), zero, sizeof(dev));

	/* CPU store: the CPU reads it back, RAM (the bus) does not have it. */
	memcpy(phys_to_virt(MiB(3) + 256), cpu, sizeof(cpu));
	assert_memory_equal(phys_to_virt(MiB(3) + 256), cpu, sizeof(cpu));
	assert_int_equal(dmasim_phys_read(m, MiB(3) + 256, buf, sizeof(cpu)), 0);
	assert_memory_equal(buf, zero, sizeof(cpu));

	/* The same holds for an allocated page; translations are as on x86. */
	p = alloc_page(GFP_KERNEL);
	assert_non_null(p);
	phys = page_to_phys(p);
	assert_ptr_equal(page_address(p), phys_to_virt(phys));
	assert_int_equal(virt_to_phys(page_address(p)), phys);
	memcpy(page_address(p), cpu, sizeof(cpu));
	assert_int_equal(dmasim_phys_read(m, phys, buf, sizeof(cpu)), 0);
	assert_memory_not_equal(buf, cpu, sizeof(cpu));
	assert_int_equal(dmasim_phys_write(m, phys + 1024, dev, sizeof(dev)), 0);
	assert_memory_not_equal((char *)page_address(p) + 1024, dev, sizeof(dev));
	__free_page(p);

	/* The x86 address map and its holes. */
	expect_fault(m, LEGACY_HOLE, 1);
	expect_fault(m, MiB(512), 1);
	expect_rw(m, MiB(512) - 16, 16);

	/* Platforms coexist: an x86 machine beside it is coherent. */
	x = test_boot(MiB(256), NULL);
	assert_ptr_equal(dmasim_enter(x), m);
	assert_int_equal(dmasim_phys_write(x, MiB(3), dev, sizeof(dev)), 0);
	assert_memory_equal(phys_to_virt(MiB(3)), dev, sizeof(dev));
	dmasim_machine_destroy(x);
	dmasim_machine_destroy(m);
}

/* ---- 6. Threads and CPUs --------------------------------------------- */

static void sem_wait_intr(sem_t *s)
{
	while (sem_wait(s) && errno == EINTR)
		;
}

/* Enter, use a page, say so, wait to be told to leave, leave. */
struct worker {
	struct dmasim_machine *m;
	pthread_t thread;
	sem_t entered;
	sem_t leave;
	/* results, read by the main thread after pthread_join */
	struct dmasim_machine *cur_before, *prev, *cur_inside, *prev_leave,
		*cur_after;
	int cpu_before, cpu_inside, cpu_after;
	int outside_alloc_null; /* alloc_page() outside a machine: NULL */
	int page_ok;		/* alloc, CPU write, bus read back, free */
};

static int use_page(struct dmasim_machine *m, uint8_t stamp)
{
	struct page *p = alloc_page(GFP_KERNEL);
	uint8_t buf[64];
	int ok;

	if (!p)
		return 0;
	memset(page_address(p), stamp, PAGE_BYTES);
	ok = dmasim_phys_read(m, page_to_phys(p) + PAGE_BYTES - sizeof(buf),
			      buf, sizeof(buf)) == 0;
	for (size_t i = 0; ok && i < sizeof(buf); i++)
		ok = buf[i] == stamp;
	__free_page(p);
	return ok;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->cur_before = dmasim_current();
	w->cpu_before = dmasim_cpu_id();
	w->outside_alloc_null = alloc_page(GFP_KERNEL) == NULL;
	w->prev = dmasim_enter(w->m);
	w->cur_inside = dmasim_current();
	w->cpu_inside = dmasim_cpu_id();
	w->page_ok = use_page(w->m, (uint8_t)(0x10 + w->cpu_inside));
	sem_post(&w->entered);
	sem_wait_intr(&w->leave);
	w->prev_leave = dmasim_enter(NULL);
	w->cur_after = dmasim_current();
	w->cpu_after = dmasim_cpu_id();
	return NULL;
}

/* Start @w in @m and wait until it is inside. */
static void worker_start(struct worker *w, struct dmasim_machine *m)
{
	memset(w, 0, sizeof(*w));
	w->m = m;
	assert_int_equal(sem_init(&w->entered, 0, 0), 0);
	assert_int_equal(sem_init(&w->leave, 0, 0), 0);
	assert_int_equal(pthread_create(&w->thread, NULL, worker_main, w), 0);
	sem_wait_intr(&w->entered);
}

/* Tell @w to leave, join it and check what it saw (CPU id @cpu). */
static void worker_finish(struct worker *w, int cpu)
{
	sem_post(&w->leave);
	assert_int_equal(pthread_join(w->thread, NULL), 0);
	sem_destroy(&w->entered);
	sem_destroy(&w->leave);
	/* The binding is per thread: a new thread is in no machine. */
	assert_null(w->cur_before);
	assert_int_equal(w->cpu_before, -1);
	assert_true(w->outside_alloc_null);
	assert_null(w->prev);
	assert_ptr_equal(w->cur_inside, w->m);
	assert_int_equal(w->cpu_inside, cpu);
	/* With or without a CPU id of its own, the thread can allocate. */
	assert_true(w->page_ok);
	assert_ptr_equal(w->prev_leave, w->m);
	assert_null(w->cur_after);
	assert_int_equal(w->cpu_after, -1);
}

static void test_enter_leave_main_thread(void **state)
{
	struct dmasim_machine *m, *n;

	(void)state;
	assert_null(dmasim_current());
	assert_int_equal(dmasim_cpu_id(), -1);
	m = test_boot(MiB(256), NULL);
	/* Booting entered it, as its lowest CPU. */
	assert_ptr_equal(dmasim_current(), m);
	assert_int_equal(dmasim_cpu_id(), 0);

	/* Leaving returns the machine left. */
	assert_ptr_equal(dmasim_enter(NULL), m);
	assert_null(dmasim_current());
	assert_int_equal(dmasim_cpu_id(), -1);
	assert_null(dmasim_enter(NULL));
	/* Outside any machine the Linux-named API fails as an allocation
	 * failure would. */
	assert_null(alloc_page(GFP_KERNEL));
	assert_int_equal(__get_free_pages(GFP_KERNEL, 0), 0);

	assert_null(dmasim_enter(m));
	assert_int_equal(dmasim_cpu_id(), 0);
	/* Entering the machine one is in changes nothing. */
	assert_ptr_equal(dmasim_enter(m), m);
	assert_int_equal(dmasim_cpu_id(), 0);

	/* Entering another machine leaves the first (and its CPU). */
	n = test_boot(MiB(256), NULL);
	assert_ptr_equal(dmasim_current(), m);
	assert_ptr_equal(dmasim_enter(n), m);
	assert_ptr_equal(dmasim_current(), n);
	assert_int_equal(dmasim_cpu_id(), 0);
	dmasim_machine_destroy(n);
	assert_null(dmasim_current());
	assert_int_equal(dmasim_cpu_id(), -1);
	dmasim_machine_destroy(m);
}

static void test_threads_take_cpus(void **state)
{
	struct dmasim_machine *m;
	struct worker w1, w2, w3, w4;

	(void)state;
	m = test_boot(MiB(512), NULL); /* 2 CPUs; this thread holds CPU 0 */
	assert_int_equal(dmasim_cpu_id(), 0);

	worker_start(&w1, m);		/* takes CPU 1 */
	worker_start(&w2, m);		/* none left: in the machine, id -1 */
	worker_finish(&w1, 1);		/* leaving gives CPU 1 back */
	worker_start(&w3, m);		/* so it is free again */
	assert_ptr_equal(dmasim_enter(NULL), m); /* CPU 0 back */
	worker_start(&w4, m);		/* the lowest free id */
	worker_finish(&w2, -1);
	worker_finish(&w3, 1);
	worker_finish(&w4, 0);

	/* Every CPU is free again. */
	assert_null(dmasim_enter(m));
	assert_int_equal(dmasim_cpu_id(), 0);
	worker_start(&w1, m);
	worker_finish(&w1, 1);
	dmasim_machine_destroy(m);
}

/* A thread's per-CPU free pages go back to the buddy lists when it leaves. */
struct pcp_worker {
	struct dmasim_machine *m;
	int cpu;
	int alloc_ok;
	int inside_differs; /* buddy counts while inside differ from before */
	unsigned long before[3][DMASIM_NR_ORDERS];
};

static const char *const zone_names[3] = { "DMA", "DMA32", "Normal" };

static int buddy_snapshot(struct dmasim_machine *m,
			  unsigned long counts[3][DMASIM_NR_ORDERS])
{
	for (int z = 0; z < 3; z++)
		if (dmasim_buddy_counts(m, zone_names[z], counts[z]))
			return -1;
	return 0;
}

static void *pcp_worker_main(void *arg)
{
	struct pcp_worker *w = arg;
	unsigned long now[3][DMASIM_NR_ORDERS];
	struct page *p[4];

	dmasim_enter(w->m);
	w->cpu = dmasim_cpu_id();
	p[0] = alloc_pages(GFP_KERNEL, 0);
	p[1] = alloc_pages(GFP_KERNEL, 3);
	p[2] = alloc_pages(GFP_KERNEL, 9);
	p[3] = alloc_pages(GFP_DMA32, 0);
	w->alloc_ok = p[0] && p[1] && p[2] && p[3];
	__free_pages(p[0], 0);
	__free_pages(p[1], 3);
	__free_pages(p[2], 9);
	__free_pages(p[3], 0);
	w->inside_differs = buddy_snapshot(w->m, now) == 0 &&
			    memcmp(now, w->before, sizeof(now)) != 0;
	dmasim_enter(NULL);
	return NULL;
}

static void test_thread_leaving_returns_pages(void **state)
{
	struct dmasim_machine *m;
	struct pcp_worker w;
	unsigned long after[3][DMASIM_NR_ORDERS];
	pthread_t t;

	(void)state;
	m = test_boot(GiB(1), NULL);
	dmasim_drain_pages(m);
	memset(&w, 0, sizeof(w));
	w.m = m;
	assert_int_equal(buddy_snapshot(m, w.before), 0);
	assert_int_equal(pthread_create(&t, NULL, pcp_worker_main, &w), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.cpu, 1);
	assert_true(w.alloc_ok);
	/* Freed pages sat on the thread's per-CPU lists, which
	 * /proc/buddyinfo does not count... */
	assert_true(w.inside_differs);
	/* ...until it left. */
	assert_int_equal(buddy_snapshot(m, after), 0);
	assert_memory_equal(after, w.before, sizeof(after));
	dmasim_machine_destroy(m);
}

/* Threads allocating at once in one machine, and one in another machine:
 * no block is handed out twice, and everything comes back. */
#define CHURN_ROUNDS 300
#define CHURN_HELD   8

struct churn {
	struct dmasim_machine *m;
	pthread_barrier_t *entered; /* all threads of m are in before any works */
	pthread_t thread;
	uint32_t id;
	int cpu;
	int failures; /* failed allocations and clobbered stamps */
};

static void stamp_block(struct page *p, unsigned int order, uint64_t v)
{
	uint8_t *va = page_address(p);

	for (unsigned long i = 0; i < 1UL << order; i++)
		memcpy(va + i * PAGE_BYTES, &v, sizeof(v));
}

static int check_block(struct page *p, unsigned int order, uint64_t v)
{
	uint8_t *va = page_address(p);
	uint64_t got;

	for (unsigned long i = 0; i < 1UL << order; i++) {
		memcpy(&got, va + i * PAGE_BYTES, sizeof(got));
		if (got != v)
			return 0;
	}
	return 1;
}

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	struct page *held[CHURN_HELD] = { NULL };
	unsigned int order[CHURN_HELD] = { 0 };
	uint64_t stamp[CHURN_HELD] = { 0 };

	dmasim_enter(c->m);
	c->cpu = dmasim_cpu_id();
	pthread_barrier_wait(c->entered);
	for (unsigned int i = 0; i < CHURN_ROUNDS; i++) {
		unsigned int s = i % CHURN_HELD;

		if (held[s]) {
			c->failures += !check_block(held[s], order[s], stamp[s]);
			__free_pages(held[s], order[s]);
		}
		order[s] = i % 32 == 5 ? 9 : (i * 7 + c->id) % 4;
		stamp[s] = (uint64_t)c->id << 32 | i;
		held[s] = alloc_pages(i % 3 ? GFP_KERNEL : GFP_DMA32, order[s]);
		if (!held[s]) {
			c->failures++;
			continue;
		}
		stamp_block(held[s], order[s], stamp[s]);
	}
	for (unsigned int s = 0; s < CHURN_HELD; s++) {
		if (!held[s])
			continue;
		c->failures += !check_block(held[s], order[s], stamp[s]);
		__free_pages(held[s], order[s]);
	}
	dmasim_enter(NULL);
	return NULL;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void test_threads_concurrent(void **state)
{
	struct dmasim_machine *a, *b;
	unsigned long a0[3][DMASIM_NR_ORDERS], b0[3][DMASIM_NR_ORDERS];
	unsigned long now[3][DMASIM_NR_ORDERS];
	pthread_barrier_t bar_a, bar_b;
	struct churn c[4];
	int cpus[3];

	(void)state;
	a = test_boot(GiB(1), NULL);
	b = test_boot(MiB(512), NULL);
	assert_ptr_equal(dmasim_enter(NULL), a);
	assert_int_equal(buddy_snapshot(a, a0), 0);
	assert_int_equal(buddy_snapshot(b, b0), 0);
	assert_int_equal(pthread_barrier_init(&bar_a, NULL, 3), 0);
	assert_int_equal(pthread_barrier_init(&bar_b, NULL, 1), 0);
	for (int i = 0; i < 4; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].m = i < 3 ? a : b;
		c[i].entered = i < 3 ? &bar_a : &bar_b;
		c[i].id = (uint32_t)i + 1;
		assert_int_equal(pthread_create(&c[i].thread, NULL, churn_main,
						&c[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(c[i].thread, NULL), 0);
	pthread_barrier_destroy(&bar_a);
	pthread_barrier_destroy(&bar_b);
	for (int i = 0; i < 4; i++)
		assert_int_equal(c[i].failures, 0);
	/* Three threads on two CPUs: ids 0 and 1 and one without. */
	for (int i = 0; i < 3; i++)
		cpus[i] = c[i].cpu;
	qsort(cpus, 3, sizeof(cpus[0]), cmp_int);
	assert_int_equal(cpus[0], -1);
	assert_int_equal(cpus[1], 0);
	assert_int_equal(cpus[2], 1);
	assert_int_equal(c[3].cpu, 0);
	/* All threads left: every page is back on the buddy lists. */
	assert_int_equal(buddy_snapshot(a, now), 0);
	assert_memory_equal(now, a0, sizeof(now));
	assert_int_equal(buddy_snapshot(b, now), 0);
	assert_memory_equal(now, b0, sizeof(now));
	dmasim_machine_destroy(b);
	dmasim_machine_destroy(a);
	assert_null(dmasim_current());
}

/* ---- 7. Refused configurations --------------------------------------- */

static int create(struct dmasim_config *cfg, char *err, size_t errlen)
{
	struct dmasim_machine *m = (struct dmasim_machine *)&m; /* not NULL */
	int ret;

	ret = dmasim_machine_create(cfg, &m, err, errlen);
	/* Failure leaves *out NULL and does not enter anything. */
	assert_true(ret < 0);
	assert_null(m);
	return ret;
}

static void expect_refused(uint64_t ram, const char *what1, const char *what2)
{
	struct dmasim_config cfg;
	char err[256];

	dmasim_config_init(&cfg);
	cfg.ram_bytes = ram;
	cfg.nr_cpus = 1;
	err[0] = '\0';
	assert_int_equal(create(&cfg, err, sizeof(err)), -EINVAL);
	if (!contains(err, what1) || (what2 && !contains(err, what2)))
		fail_msg("RAM %llu bytes: message \"%s\" lacks \"%s\"%s%s",
			 (unsigned long long)ram, err, what1,
			 what2 ? " or " : "", what2 ? what2 : "");
}

static void test_create_errors(void **state)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m, *in;
	char err[256], small[12];

	(void)state;
	/* RAM out of range: the value (in MiB) and the range. */
	expect_refused(DMASIM_RAM_MIN - MiB(1), "RAM size 127 MiB",
		       "out of range (128M to 4T)");
	expect_refused(0, "RAM size 0 MiB", "out of range");
	expect_refused(MiB(64), "64 MiB", "out of range");
	expect_refused(DMASIM_RAM_MAX + MiB(1), "RAM size 4194305 MiB",
		       "out of range (128M to 4T)");
	expect_refused(DMASIM_RAM_MAX * 2, "8388608 MiB", "out of range");
	expect_refused(UINT64_MAX, "not a multiple of 1M", NULL);
	/* Not a whole number of MiB. */
	expect_refused(MiB(512) + 4096, "multiple of 1M", NULL);
	expect_refused(GiB(8) + 1, "multiple of 1M", NULL);

	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.platform = (enum dmasim_platform)7;
	assert_int_equal(create(&cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown platform 7");

	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.nr_cpus = 257;
	assert_int_equal(create(&cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "257 CPUs is more than the 256 supported");

	/* No message buffer, or a small one: still an error, no overflow. */
	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(1);
	assert_int_equal(create(&cfg, NULL, 0), -EINVAL);
	memset(small, 'x', sizeof(small));
	assert_int_equal(create(&cfg, small, 8), -EINVAL);
	assert_string_equal(small, "RAM siz");
	assert_int_equal(small[8], 'x');

	/* A failed create leaves the thread in the machine it was in. */
	in = test_boot(DMASIM_RAM_MIN, NULL); /* the minimum boots */
	cfg.ram_bytes = MiB(1);
	assert_int_equal(create(&cfg, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(dmasim_current(), in);
	dmasim_machine_destroy(in);

	/* The same holds for a boot that fails on its command line. */
	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.cmdline = "mem=64M";
	cfg.nr_cpus = 1;
	m = (struct dmasim_machine *)&cfg;
	assert_int_equal(dmasim_machine_create(&cfg, &m, err, sizeof(err)),
			 -EINVAL);
	assert_null(m);
	assert_true(contains(err, "mem=64M"));
	assert_null(dmasim_current());
}

/*
 * A command line longer than DMASIM_CMDLINE_MAX is not an error: as on
 * Linux (COMMAND_LINE_SIZE) it is cut to DMASIM_CMDLINE_MAX - 1
 * characters, and parameters past the cut are not seen.
 */
static void test_cmdline_length_limit(void **state)
{
	const size_t max = DMASIM_CMDLINE_MAX - 1;
	struct dmasim_machine *m;
	char *line = malloc(DMASIM_CMDLINE_MAX + 64), *t, *log;

	(void)state;
	assert_non_null(line);
	/* Exactly the limit: kept whole. */
	memset(line, 'a', max);
	line[max] = '\0';
	m = test_boot(MiB(512), line);
	t = test_read(m, "/proc/cmdline");
	assert_int_equal(strlen(t), max + 1);
	assert_memory_equal(t, line, max);
	free(t);
	dmasim_machine_destroy(m);

	/* A parameter that fits is applied... */
	memset(line, 'a', max - 16);
	strcpy(line + max - 16, " mem=256M");
	m = test_boot(MiB(512), line);
	log = test_dmesg(m);
	assert_true(contains(log, "] user-defined physical RAM map:\n"));
	free(log);
	dmasim_machine_destroy(m);

	/* ...one past the limit is cut off and not applied. */
	memset(line, 'a', max);
	strcpy(line + max, " mem=256M");
	m = test_boot(MiB(512), line);
	t = test_read(m, "/proc/cmdline");
	assert_int_equal(strlen(t), max + 1);
	assert_false(contains(t, "mem="));
	free(t);
	log = test_dmesg(m);
	assert_false(contains(log, "user-defined physical RAM map"));
	free(log);
	dmasim_machine_destroy(m);
	free(line);
}

/* A thread that exits without leaving gives its CPU back. */
struct exiter {
	struct dmasim_machine *m;
	int cpu;
};

static void *exit_inside(void *arg)
{
	struct exiter *e = arg;

	dmasim_enter(e->m);
	e->cpu = dmasim_cpu_id();
	return NULL; /* no dmasim_enter(NULL) */
}

static void test_thread_exit_frees_cpu(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(256), NULL);
	struct exiter e[3] = { { m, -2 }, { m, -2 }, { m, -2 } };
	pthread_t t;

	(void)state;
	dmasim_enter(NULL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_create(&t, NULL, exit_inside, &e[i]), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
	}
	/* each one found CPU 0 free again */
	for (int i = 0; i < 3; i++)
		assert_int_equal(e[i].cpu, 0);
	dmasim_enter(m);
	assert_int_equal(dmasim_cpu_id(), 0);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_machines_isolated),
		cmocka_unit_test(test_destroy_in_any_order),
		cmocka_unit_test(test_create_destroy_loop),
		cmocka_unit_test(test_bus_errors_8g),
		cmocka_unit_test(test_bus_errors_512m),
		cmocka_unit_test(test_x86_views_coherent),
		cmocka_unit_test(test_arm64_views_separate),
		cmocka_unit_test(test_enter_leave_main_thread),
		cmocka_unit_test(test_threads_take_cpus),
		cmocka_unit_test(test_thread_leaving_returns_pages),
		cmocka_unit_test(test_threads_concurrent),
		cmocka_unit_test(test_thread_exit_frees_cpu),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_cmdline_length_limit),
	};

	return cmocka_run_group_tests_name("machines", tests, NULL, NULL);
}

/*
 * The disk and its driver, data paths: PIO and DMA reads and writes
 * checked against the image file (read with pread/pwrite behind the
 * machine's back), 16- and 32-bit data ports, buffers in the machine's
 * RAM (zero copy) and outside it (bounced), unaligned buffers crossing
 * pages, multi-PRD commands and commands split over several ring slots,
 * asynchronous requests, flush, interrupt counts, several threads at
 * once, and inline and threaded engines giving the same results.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmasim/disk.h"
#include "dmasim/hw/disk.h"
#include "dmasim/linux/mm.h"
#include "helpers.h"

#define SECT DMASIM_DISK_SECTOR

struct rig {
	struct dmasim_machine *m;
	struct dmasim_disk *d;
	char path[256];
	int fd;
};

/* A machine with one disk "d1" on an image in $TMPDIR; @extra is more
 * of the disk's options. */
static void rig_up(struct rig *r, const char *extra)
{
	const char *tmp = getenv("TMPDIR");
	struct dmasim_config cfg;
	char spec[512], err[256] = "";
	const char *devs[1] = { spec };
	int ret;

	snprintf(r->path, sizeof(r->path), "%s/dmasim-test-disk-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	r->fd = mkstemp(r->path);
	assert_true(r->fd >= 0);
	snprintf(spec, sizeof(spec), "disk,id=d1,file=%s,size=8M%s%s", r->path,
		 extra && *extra ? "," : "", extra ? extra : "");
	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.nr_cpus = 2;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.devices = devs;
	cfg.nr_devices = 1;
	cfg.nodefaults = true;
	ret = dmasim_machine_create(&cfg, &r->m, err, sizeof(err));
	if (ret)
		print_error("boot failed: %s\n", err);
	assert_int_equal(ret, 0);
	r->d = dmasim_disk_find(r->m, "d1");
	assert_non_null(r->d);
}

static void rig_down(struct rig *r)
{
	dmasim_machine_destroy(r->m);
	close(r->fd);
	unlink(r->path);
}

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

static void file_read(struct rig *r, uint64_t lba, void *buf, size_t len)
{
	assert_int_equal(pread(r->fd, buf, len, (off_t)(lba * SECT)),
			 (ssize_t)len);
}

static void file_write(struct rig *r, uint64_t lba, const void *buf,
		       size_t len)
{
	assert_int_equal(pwrite(r->fd, buf, len, (off_t)(lba * SECT)),
			 (ssize_t)len);
}

/* Write @buf by @mode, check the file; then put other data in the file
 * and read it back by @mode into @buf. */
static void roundtrip(struct rig *r, unsigned int mode, uint64_t lba,
		      uint8_t *buf, uint32_t nsect, unsigned int seed)
{
	size_t len = (size_t)nsect * SECT;
	uint8_t *want = malloc(len), *got = malloc(len);

	assert_non_null(want);
	assert_non_null(got);
	fill(want, len, seed);
	memcpy(buf, want, len);
	assert_int_equal(dmasim_disk_write(r->d, lba, buf, nsect, mode), 0);
	file_read(r, lba, got, len);
	assert_memory_equal(got, want, len);
	fill(want, len, seed + 1000);
	file_write(r, lba, want, len);
	memset(buf, 0x5a, len);
	assert_int_equal(dmasim_disk_read(r->d, lba, buf, nsect, mode), 0);
	assert_memory_equal(buf, want, len);
	free(want);
	free(got);
}

static uint8_t *kbuf(unsigned int order)
{
	struct page *p = alloc_pages(GFP_KERNEL, order);

	assert_non_null(p);
	return page_address(p);
}

static void kfree(uint8_t *p, unsigned int order)
{
	__free_pages(virt_to_page(p), order);
}

static void test_pio_roundtrip(void **state)
{
	struct rig r;
	uint8_t *host = malloc(40 * SECT), *k;

	(void)state;
	rig_up(&r, "speed=unlimited");
	roundtrip(&r, DMASIM_PIO, 0, host, 1, 1);
	roundtrip(&r, DMASIM_PIO, 7, host, 40, 2);
	roundtrip(&r, DMASIM_PIO, 16383, host, 1, 3); /* the last sector */
	k = kbuf(2);
	roundtrip(&r, DMASIM_PIO, 300, k, 9, 4);
	kfree(k, 2);
	rig_down(&r);
	free(host);
}

static void test_pio_32bit_and_slow_modes(void **state)
{
	struct rig r;
	uint8_t *host = malloc(300 * SECT);
	struct dmasim_disk_info info;

	(void)state;
	rig_up(&r, "width=32,pio=mode0");
	assert_int_equal(dmasim_disk_info(r.d, &info), 0);
	assert_int_equal(info.pio_width, 32);
	assert_int_equal(info.pio_mode, 0);
	/* more than one PIO command (256 sectors each) */
	roundtrip(&r, DMASIM_PIO, 11, host, 3, 5);
	rig_down(&r);
	rig_up(&r, "width=16,pio=mode3");
	roundtrip(&r, DMASIM_PIO, 100, host, 300, 6);
	rig_down(&r);
	free(host);
}

static void test_dma_roundtrip_ram(void **state)
{
	struct rig r;
	struct dmasim_disk_info before, after;
	uint8_t *k;

	(void)state;
	rig_up(&r, "speed=unlimited");
	k = kbuf(8); /* 1 MiB: 16 PRDs of 64 KiB */
	assert_int_equal(dmasim_disk_info(r.d, &before), 0);
	roundtrip(&r, DMASIM_DMA, 0, k, 1, 7);
	roundtrip(&r, DMASIM_DMA, 1000, k, 2048, 8);
	assert_int_equal(dmasim_disk_info(r.d, &after), 0);
	assert_int_equal(after.bounced_bytes, 0);
	/* one interrupt per request, whatever its size */
	assert_int_equal(after.irqs - before.irqs, 4);
	assert_int_equal(after.dma_commands - before.dma_commands, 4);
	kfree(k, 8);
	rig_down(&r);
}

static void test_dma_bounced(void **state)
{
	struct rig r;
	struct dmasim_disk_info info;
	uint8_t *host = malloc(3000 * SECT);

	(void)state;
	rig_up(&r, "speed=unlimited");
	roundtrip(&r, DMASIM_DMA, 5, host, 3000, 9); /* > 1 MiB bounce */
	assert_int_equal(dmasim_disk_info(r.d, &info), 0);
	assert_int_equal(info.bounced_bytes, 2 * 3000 * SECT);
	rig_down(&r);
	free(host);
}

/* Odd addresses, pieces straddling page boundaries, guards untouched. */
static void test_unaligned_cross_page(void **state)
{
	static const size_t offs[] = { 1, 511, 4096 - 100, 4096 - 1, 3 * 4096 - 7 };
	struct rig r;

	(void)state;
	rig_up(&r, "speed=unlimited");
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (unsigned int mode = DMASIM_PIO; mode <= DMASIM_DMA; mode++) {
			uint8_t *k = kbuf(3);
			size_t len = 5 * SECT;

			memset(k, 0xee, 8 * 4096);
			roundtrip(&r, mode, 50 + i, k + offs[i], 5, 10 + (unsigned)i);
			for (size_t j = 0; j < offs[i]; j++)
				assert_int_equal(k[j], 0xee);
			for (size_t j = offs[i] + len; j < 8 * 4096; j++)
				assert_int_equal(k[j], 0xee);
			kfree(k, 3);
		}
	}
	rig_down(&r);
}

/* Explicit scatter lists: odd-sized pieces in separate pages. */
static void test_multi_prd_bus(void **state)
{
	static const uint32_t lens[] = { 100, 412, 1000, 24, 512 }; /* 4 sectors */
	struct dmasim_disk_seg segs[5];
	struct dmasim_disk_result res;
	uint8_t *k = NULL, want[2048], got[2048];
	struct rig r;
	size_t off = 0;

	(void)state;
	rig_up(&r, "speed=unlimited");
	k = kbuf(4);
	fill(want, sizeof(want), 20);
	for (unsigned int i = 0; i < 5; i++) {
		uint8_t *piece = k + i * 8192 + 4096 - lens[i] / 2;

		segs[i].bus_addr = virt_to_phys(piece);
		segs[i].len = lens[i];
		memcpy(piece, want + off, lens[i]);
		off += lens[i];
	}
	assert_int_equal(dmasim_disk_rw_bus(r.d, true, 77, 4, segs, 5, &res), 0);
	assert_int_equal(res.status, DISK_ST_OK);
	assert_int_equal(res.bytes_done, 2048);
	file_read(&r, 77, got, sizeof(got));
	assert_memory_equal(got, want, sizeof(got));
	fill(want, sizeof(want), 21);
	file_write(&r, 77, want, sizeof(want));
	assert_int_equal(dmasim_disk_rw_bus(r.d, false, 77, 4, segs, 5, &res), 0);
	off = 0;
	for (unsigned int i = 0; i < 5; i++) {
		assert_memory_equal(k + i * 8192 + 4096 - lens[i] / 2, want + off,
				    lens[i]);
		off += lens[i];
	}
	kfree(k, 4);
	rig_down(&r);
}

/* A contiguous run of @n 4 MiB blocks of RAM, or NULL: fresh machines
 * hand out neighbouring blocks, which is all this needs. */
static uint8_t *contiguous(struct page **blocks, int nblocks, int n)
{
	phys_addr_t pa[16];

	for (int i = 0; i < nblocks; i++) {
		blocks[i] = alloc_pages(GFP_KERNEL, 10);
		assert_non_null(blocks[i]);
		pa[i] = page_to_phys(blocks[i]);
	}
	for (int i = 0; i < nblocks; i++) {
		int run = 1;

		for (phys_addr_t next = pa[i] + (4 << 20); run < n; run++) {
			int j;

			for (j = 0; j < nblocks && pa[j] != next; j++)
				;
			if (j == nblocks)
				break;
			next += 4 << 20;
		}
		if (run == n)
			return phys_to_virt(pa[i]);
	}
	return NULL;
}

/* 18 MiB in one mapping: two commands (16 MiB of PRDs each at most). */
static void test_multi_command(void **state)
{
	struct rig r;
	struct page *blocks[8];
	struct dmasim_disk_info before, after;
	uint8_t *k;

	(void)state;
	rig_up(&r, "speed=unlimited,size=32M");
	k = contiguous(blocks, 8, 5);
	if (k) {
		assert_int_equal(dmasim_disk_info(r.d, &before), 0);
		roundtrip(&r, DMASIM_DMA, 3, k + 512, 18 * 2048, 22);
		assert_int_equal(dmasim_disk_info(r.d, &after), 0);
		assert_int_equal(after.dma_commands - before.dma_commands, 4);
		assert_int_equal(after.irqs - before.irqs, 2);
		assert_int_equal(after.bounced_bytes, 0);
	}
	for (int i = 0; i < 8; i++)
		__free_pages(blocks[i], 10);
	rig_down(&r);
	if (!k)
		skip();
}

static void test_async_requests(void **state)
{
	struct rig r;
	struct dmasim_disk_req *q[4];
	uint8_t *k, *want = malloc(4 * 65536);
	struct dmasim_disk_info before, after;

	(void)state;
	rig_up(&r, "speed=sata");
	k = kbuf(6);
	fill(want, 4 * 65536, 30);
	file_write(&r, 0, want, 4 * 65536);
	assert_int_equal(dmasim_disk_info(r.d, &before), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(dmasim_disk_submit(r.d, false, (uint64_t)i * 128,
						    k + i * 65536, 128, &q[i]), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(dmasim_disk_wait(q[i]), 0);
	assert_memory_equal(k, want, 4 * 65536);
	assert_int_equal(dmasim_disk_info(r.d, &after), 0);
	assert_int_equal(after.irqs - before.irqs, 4);
	/* a buffer outside RAM cannot be handed to the device as is */
	assert_int_equal(dmasim_disk_submit(r.d, false, 0, want, 1, &q[0]),
			 -EFAULT);
	assert_null(q[0]);
	assert_int_equal(dmasim_disk_flush(r.d), 0);
	kfree(k, 6);
	free(want);
	rig_down(&r);
}

static void test_pio_interrupts(void **state)
{
	struct rig r;
	struct dmasim_disk_info before, after;
	uint8_t buf[8 * SECT];

	(void)state;
	rig_up(&r, NULL);
	assert_int_equal(dmasim_disk_info(r.d, &before), 0);
	assert_int_equal(dmasim_disk_read(r.d, 0, buf, 8, DMASIM_PIO), 0);
	assert_int_equal(dmasim_disk_write(r.d, 0, buf, 8, DMASIM_PIO), 0);
	assert_int_equal(dmasim_disk_info(r.d, &after), 0);
	/* one per DRQ block in, one per block out */
	assert_int_equal(after.irqs - before.irqs, 16);
	rig_down(&r);
}

static void test_info_and_log(void **state)
{
	struct rig r;
	struct dmasim_disk_info info;
	char *log;

	(void)state;
	rig_up(&r, "speed=nvme");
	assert_int_equal(dmasim_disk_info(r.d, &info), 0);
	assert_string_equal(info.id, "d1");
	assert_string_equal(info.model, "DMASIM HARDDISK");
	assert_int_equal(info.sectors, 16384);
	assert_int_equal(info.sector_size, 512);
	assert_int_equal(info.dma_bytes_per_sec, 3500000000ULL);
	assert_int_equal(info.pio_mode, 4);
	assert_ptr_equal(dmasim_disk_find(r.m, info.pci_name), r.d);
	assert_null(dmasim_disk_find(r.m, "nope"));
	log = test_dmesg(r.m);
	assert_true(test_matches(log, "dmasim_ata 0000:00:01\\.0: 8 MiB, 16384 512-byte sectors"));
	assert_true(test_matches(log, "dmasim_ata 0000:00:01\\.0: ATA-8: DMASIM HARDDISK"));
	free(log);
	rig_down(&r);
}

static void test_bad_arguments(void **state)
{
	struct rig r;
	uint8_t buf[SECT];
	struct dmasim_machine *prev;

	(void)state;
	rig_up(&r, NULL);
	assert_int_equal(dmasim_disk_read(r.d, 16384, buf, 1, DMASIM_DMA), -EINVAL);
	assert_int_equal(dmasim_disk_read(r.d, 16383, buf, 2, DMASIM_PIO), -EINVAL);
	assert_int_equal(dmasim_disk_read(r.d, 0, buf, 0, DMASIM_DMA), -EINVAL);
	assert_int_equal(dmasim_disk_read(r.d, 0, buf, 1, 3), -EINVAL);
	assert_int_equal(dmasim_disk_read(r.d, 0, NULL, 1, DMASIM_PIO), -EINVAL);
	prev = dmasim_enter(NULL);
	assert_int_equal(dmasim_disk_read(r.d, 0, buf, 1, DMASIM_PIO), -EINVAL);
	dmasim_enter(prev);
	rig_down(&r);
}

/* The default machine has disk0, 64 MiB on an unlinked temporary file. */
static void test_default_disk(void **state)
{
	struct dmasim_machine *m = test_boot(MiB(512), NULL);
	struct dmasim_disk *d = dmasim_disk_find(m, "disk0");
	struct dmasim_disk_info info;
	uint8_t buf[4 * SECT], back[4 * SECT];

	(void)state;
	assert_non_null(d);
	assert_int_equal(dmasim_disk_info(d, &info), 0);
	assert_int_equal(info.sectors, 131072);
	assert_int_equal(info.dma_bytes_per_sec, 133000000);
	fill(buf, sizeof(buf), 40);
	assert_int_equal(dmasim_disk_write(d, 1000, buf, 4, DMASIM_DMA), 0);
	assert_int_equal(dmasim_disk_read(d, 1000, back, 4, DMASIM_PIO), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	dmasim_machine_destroy(m);
}

/* The same operations on an inline and a threaded engine: the same
 * images, the same data read back, the same statuses. */
static void run_script(struct rig *r, uint8_t *out, size_t outlen)
{
	uint8_t *k = kbuf(5);
	uint32_t x = 12345;
	size_t o = 0;

	for (int i = 0; i < 60; i++) {
		uint32_t n, lba;
		unsigned int mode;
		bool wr;

		x = x * 1103515245u + 12345u;
		n = 1 + (x >> 8) % 64;
		lba = (x >> 4) % (16384 - 64);
		mode = (x >> 20) & 1 ? DMASIM_DMA : DMASIM_PIO;
		wr = (x >> 21) & 1;
		if (wr) {
			fill(k, n * SECT, x);
			assert_int_equal(dmasim_disk_write(r->d, lba, k, n, mode), 0);
		} else {
			assert_int_equal(dmasim_disk_read(r->d, lba, k, n, mode), 0);
			if (o + 16 <= outlen) {
				memcpy(out + o, k + (x % (n * SECT - 16)), 16);
				o += 16;
			}
		}
	}
	kfree(k, 5);
}

static void script_on(const char *opts, uint8_t *out, size_t outlen,
		      uint8_t *image, struct dmasim_disk_result *res)
{
	struct dmasim_disk_seg seg = { 0xa0000ULL, 4096 }; /* a hole */
	struct rig r;

	rig_up(&r, opts);
	run_script(&r, out, outlen);
	assert_int_equal(dmasim_disk_rw_bus(r.d, false, 0, 8, &seg, 1, res),
			 -EIO);
	file_read(&r, 0, image, 8 << 20);
	rig_down(&r);
}

static void test_inline_equals_thread(void **state)
{
	uint8_t outa[1024] = { 0 }, outb[1024] = { 0 };
	uint8_t *ia = malloc(8 << 20), *ib = malloc(8 << 20);
	struct dmasim_disk_result ra, rb;

	(void)state;
	script_on("speed=unlimited,mode=inline", outa, sizeof(outa), ia, &ra);
	script_on("speed=unlimited,mode=thread", outb, sizeof(outb), ib, &rb);
	assert_memory_equal(outa, outb, sizeof(outa));
	assert_memory_equal(ia, ib, 8 << 20);
	assert_int_equal(ra.status, DISK_ST_BUS_ERROR);
	assert_int_equal(ra.status, rb.status);
	assert_int_equal(ra.bytes_done, rb.bytes_done);
	free(ia);
	free(ib);
}

/* Several CPUs use the disk at once: DMA on two threads, PIO on a third,
 * each on its own LBA range. */
struct worker {
	struct rig *r;
	int id;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint8_t *k, *want = malloc(32 * SECT);
	unsigned int mode = w->id == 2 ? DMASIM_PIO : DMASIM_DMA;

	dmasim_enter(w->r->m);
	k = page_address(alloc_pages(GFP_KERNEL, 4));
	for (int i = 0; i < 20; i++) {
		uint64_t lba = (uint64_t)w->id * 4096 + (uint64_t)i * 32;

		fill(want, 32 * SECT, (unsigned int)(w->id * 100 + i));
		memcpy(k, want, 32 * SECT);
		if (dmasim_disk_write(w->r->d, lba, k, 32, mode))
			w->failures++;
		memset(k, 0, 32 * SECT);
		if (dmasim_disk_read(w->r->d, lba, k, 32, mode) ||
		    memcmp(k, want, 32 * SECT))
			w->failures++;
	}
	__free_pages(virt_to_page(k), 4);
	free(want);
	dmasim_enter(NULL);
	return NULL;
}

static void test_threads(void **state)
{
	struct rig r;
	struct worker w[3];
	pthread_t th[3];
	struct dmasim_machine *prev;

	(void)state;
	rig_up(&r, "speed=unlimited");
	prev = dmasim_enter(NULL);
	for (int i = 0; i < 3; i++) {
		w[i] = (struct worker){ &r, i, 0 };
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	dmasim_enter(prev);
	for (int i = 0; i < 3; i++)
		assert_int_equal(w[i].failures, 0);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pio_roundtrip),
		cmocka_unit_test(test_pio_32bit_and_slow_modes),
		cmocka_unit_test(test_dma_roundtrip_ram),
		cmocka_unit_test(test_dma_bounced),
		cmocka_unit_test(test_unaligned_cross_page),
		cmocka_unit_test(test_multi_prd_bus),
		cmocka_unit_test(test_multi_command),
		cmocka_unit_test(test_async_requests),
		cmocka_unit_test(test_pio_interrupts),
		cmocka_unit_test(test_info_and_log),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_default_disk),
		cmocka_unit_test(test_inline_equals_thread),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

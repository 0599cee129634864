/*
 * The disk when things go wrong, and its options: PRDs pointing at a
 * hole or beyond RAM (an error status in the ring slot, nothing moved,
 * the machine fine afterwards), PRD tables too short or malformed, LBAs
 * past the end, bus mastering disabled (the engine halts on a master
 * abort, the driver times out and resets the ring; even PIO's interrupt,
 * an MSI, is dropped),
 * bad device options refused with a message naming the problem, and
 * image files created sparse on demand and kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmasim/disk.h"
#include "dmasim/hw/disk.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "helpers.h"
#include "kernel/machine.h"

#define SECT DMASIM_DISK_SECTOR
#define HOLE 0xa0000ULL		 /* the legacy VGA and ROM hole below 1 MiB */
#define BEYOND (1ULL << 40)	 /* past the end of RAM */

struct rig {
	struct dmasim_machine *m;
	struct dmasim_disk *d;
	char path[256];
	int fd;
};

static void tmp_path(char *buf, size_t len, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, len, "%s/%s", tmp && *tmp ? tmp : "/tmp", name);
}

static int boot_with(const char *spec, struct dmasim_machine **m, char *err,
		     size_t errlen)
{
	struct dmasim_config cfg;
	const char *devs[1] = { spec };

	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.nr_cpus = 2;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.devices = devs;
	cfg.nr_devices = 1;
	cfg.nodefaults = true;
	err[0] = '\0';
	return dmasim_machine_create(&cfg, m, err, errlen);
}

static void rig_up(struct rig *r, const char *extra)
{
	char spec[512], err[256], name[64];

	snprintf(name, sizeof(name), "dmasim-test-diskerr-%d-XXXXXX", (int)getpid());
	tmp_path(r->path, sizeof(r->path), name);
	r->fd = mkstemp(r->path);
	assert_true(r->fd >= 0);
	snprintf(spec, sizeof(spec), "disk,id=d1,file=%s,size=1M,%s", r->path,
		 extra);
	if (boot_with(spec, &r->m, err, sizeof(err)))
		print_error("boot failed: %s\n", err);
	assert_non_null(r->m);
	r->d = dmasim_disk_find(r->m, "d1");
	assert_non_null(r->d);
}

static void rig_down(struct rig *r)
{
	dmasim_machine_destroy(r->m);
	close(r->fd);
	unlink(r->path);
}

static struct pci_func *func(struct rig *r)
{
	return pci_find_id((struct machine *)r->m, "d1");
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

static void pattern_file(struct rig *r, uint8_t *copy, size_t len, int c)
{
	memset(copy, c, len);
	assert_int_equal(pwrite(r->fd, copy, len, 0), (ssize_t)len);
}

static void expect_file(struct rig *r, const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len);

	assert_int_equal(pread(r->fd, got, len, 0), (ssize_t)len);
	assert_memory_equal(got, want, len);
	free(got);
}

static void check_bus_errors(struct rig *r, uint64_t bad)
{
	struct dmasim_disk_seg seg = { bad, 4096 }, two[2];
	struct dmasim_disk_result res;
	uint8_t image[8192], *k = kbuf(1);
	uint64_t ur = atomic_load(&func(r)->cnt.unsupported);

	pattern_file(r, image, sizeof(image), 0x11);
	/* disk -> hole: nothing to write into */
	assert_int_equal(dmasim_disk_rw_bus(r->d, false, 0, 8, &seg, 1, &res), -EIO);
	assert_int_equal(res.status, DISK_ST_BUS_ERROR);
	assert_int_equal(res.bytes_done, 0);
	/* hole -> disk: nothing reaches the image */
	assert_int_equal(dmasim_disk_rw_bus(r->d, true, 0, 8, &seg, 1, &res), -EIO);
	assert_int_equal(res.status, DISK_ST_BUS_ERROR);
	assert_int_equal(res.bytes_done, 0);
	expect_file(r, image, sizeof(image));
	/* a good piece, then the bad one: the good piece is moved, and
	 * bytes_done says exactly how much */
	memset(k, 0x22, 8192);
	two[0] = (struct dmasim_disk_seg){ virt_to_phys(k), 1024 };
	two[1] = (struct dmasim_disk_seg){ bad, 3072 };
	assert_int_equal(dmasim_disk_rw_bus(r->d, false, 0, 8, two, 2, &res), -EIO);
	assert_int_equal(res.bytes_done, 1024);
	assert_int_equal(k[0], 0x11);
	assert_int_equal(k[1023], 0x11);
	assert_int_equal(k[1024], 0x22);
	assert_true(atomic_load(&func(r)->cnt.unsupported) > ur);
	kfree(k, 1);
}

/* After all that, the disk still works. */
static void check_still_works(struct rig *r)
{
	uint8_t *k = kbuf(0);

	memset(k, 0x33, 4096);
	assert_int_equal(dmasim_disk_write(r->d, 0, k, 8, DMASIM_DMA), 0);
	memset(k, 0, 4096);
	assert_int_equal(dmasim_disk_read(r->d, 0, k, 8, DMASIM_DMA), 0);
	assert_int_equal(k[0], 0x33);
	assert_int_equal(k[4095], 0x33);
	kfree(k, 0);
}

static void test_prd_hole(void **state)
{
	static const char *const modes[] = { "mode=thread", "mode=inline" };
	struct rig r;
	char *log;

	(void)state;
	for (int i = 0; i < 2; i++) {
		rig_up(&r, modes[i]);
		check_bus_errors(&r, HOLE);
		check_bus_errors(&r, BEYOND);
		check_still_works(&r);
		log = test_dmesg(r.m);
		assert_true(test_matches(log, "dmasim_ata 0000:00:01\\.0: DMA command failed: bus error, error 0x84, 0 bytes done"));
		free(log);
		rig_down(&r);
	}
}

static void test_prd_table_errors(void **state)
{
	struct rig r;
	struct dmasim_disk_result res;
	uint8_t *k;
	struct dmasim_disk_seg seg;

	(void)state;
	rig_up(&r, "speed=unlimited");
	k = kbuf(1);
	seg = (struct dmasim_disk_seg){ virt_to_phys(k), 4096 };
	/* 4 KiB of PRDs for 8 KiB: too short */
	assert_int_equal(dmasim_disk_rw_bus(r.d, false, 0, 16, &seg, 1, &res), -EIO);
	assert_int_equal(res.status, DISK_ST_PRD_ERROR);
	assert_int_equal(res.bytes_done, 4096);
	/* an empty entry */
	seg.len = 0;
	assert_int_equal(dmasim_disk_rw_bus(r.d, false, 0, 1, &seg, 1, &res), -EIO);
	assert_int_equal(res.status, DISK_ST_PRD_ERROR);
	/* an entry over 4 MiB */
	seg.len = DISK_PRD_MAX_LEN + 2;
	assert_int_equal(dmasim_disk_rw_bus(r.d, false, 0, 1, &seg, 1, &res), -EIO);
	assert_int_equal(res.status, DISK_ST_PRD_ERROR);
	/* longer than the transfer is fine */
	seg.len = 8192;
	assert_int_equal(dmasim_disk_rw_bus(r.d, false, 0, 1, &seg, 1, &res), 0);
	assert_int_equal(res.bytes_done, 512);
	/* past the end of the disk (1 MiB = 2048 sectors) */
	assert_int_equal(dmasim_disk_rw_bus(r.d, false, 2047, 2, &seg, 1, &res), -EIO);
	assert_int_equal(res.status, DISK_ST_LBA_ERROR);
	assert_int_equal(res.error & ATA_IDNF, ATA_IDNF);
	/* zero sectors */
	assert_int_equal(dmasim_disk_rw_bus(r.d, false, 0, 0, &seg, 1, &res), -EIO);
	assert_int_equal(res.status, DISK_ST_BAD_COMMAND);
	check_still_works(&r);
	kfree(k, 1);
	rig_down(&r);
}

static void set_master(struct rig *r, bool on)
{
	struct pci_dev *pdev = pci_get_by_name((struct machine *)r->m,
					       func(r)->name);

	assert_non_null(pdev);
	if (on)
		pci_set_master(pdev);
	else
		pci_clear_master(pdev);
}

static void check_no_bus_master(struct rig *r)
{
	uint8_t image[8192], *k = kbuf(1);
	uint64_t ma = atomic_load(&func(r)->cnt.master_aborts), drops;
	struct dmasim_disk_info info;
	char *log;

	pattern_file(r, image, sizeof(image), 0x44);
	dmasim_disk_set_timeout(r->d, 100);
	set_master(r, false);
	memset(k, 0xaa, 8192);
	assert_int_equal(dmasim_disk_read(r->d, 0, k, 16, DMASIM_DMA), -EIO);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(k[i], 0xaa);
	assert_int_equal(dmasim_disk_write(r->d, 0, k, 16, DMASIM_DMA), -EIO);
	expect_file(r, image, sizeof(image));
	assert_true(atomic_load(&func(r)->cnt.master_aborts) > ma);
	/* PIO moves its data without bus mastering, but its interrupt is
	 * an MSI, a memory write: dropped, so the driver times out */
	drops = atomic_load(&func(r)->cnt.msi_dropped);
	assert_int_equal(dmasim_disk_read(r->d, 0, k, 16, DMASIM_PIO), -ETIMEDOUT);
	assert_true(atomic_load(&func(r)->cnt.msi_dropped) > drops);
	log = test_dmesg(r->m);
	assert_true(test_matches(log, "dmasim_ata 0000:00:01\\.0: DMA engine halted: master abort \\(bus mastering disabled\\); resetting the ring"));
	free(log);
	assert_int_equal(dmasim_disk_info(r->d, &info), 0);
	assert_true(info.dma_errors >= 2);
	set_master(r, true);
	dmasim_disk_set_timeout(r->d, 0);
	check_still_works(r);
	assert_int_equal(dmasim_disk_read(r->d, 0, k, 16, DMASIM_PIO), 0);
	assert_int_equal(k[0], 0x33);
	kfree(k, 1);
}

static void test_bme_clear(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r, "mode=inline");
	check_no_bus_master(&r);
	rig_down(&r);
	rig_up(&r, "mode=thread");
	check_no_bus_master(&r);
	rig_down(&r);
}

static void expect_refused(const char *opts, const char *msg)
{
	struct dmasim_machine *m = NULL;
	char spec[512], err[512];

	snprintf(spec, sizeof(spec), "disk,%s", opts);
	assert_true(boot_with(spec, &m, err, sizeof(err)) < 0);
	assert_null(m);
	if (!strstr(err, msg))
		print_error("'%s': message '%s' lacks '%s'\n", opts, err, msg);
	assert_non_null(strstr(err, msg));
}

static void test_bad_options(void **state)
{
	(void)state;
	expect_refused("size=100", "size=100: '100': missing unit");
	expect_refused("size=0K", "size=0K: a disk is a whole number of 512-byte sectors (at least one)");
	expect_refused("size=banana", "size=banana");
	expect_refused("speed=fast", "speed=fast: unknown speed: use ata-udma133");
	expect_refused("bandwidth=fast", "bandwidth=fast: 'fast' is not a bandwidth");
	expect_refused("latency=3parsecs", "latency=3parsecs: '3parsecs' is not a time");
	expect_refused("speed=sata,bandwidth=1G", "speed= and bandwidth= both set the media rate");
	expect_refused("bandwidth=1G,speed=sata", "speed= and bandwidth= both set the media rate");
	expect_refused("pio=mode5", "pio=mode5: expected an ATA PIO mode");
	expect_refused("pio=4", "pio=4: expected an ATA PIO mode");
	expect_refused("width=8", "width=8: the data port is 16 or 32 bits wide");
	expect_refused("mode=async", "mode=async: expected thread");
	expect_refused("file=", "file=: an empty path");
	expect_refused("colour=blue", "'colour' is not an option of disk");
	expect_refused("file=/nonexistent-dir/x.img", "cannot open image '/nonexistent-dir/x.img'");
}

static void test_image_files(void **state)
{
	struct dmasim_machine *m;
	struct dmasim_disk *d;
	struct dmasim_disk_info info;
	char path[256], spec[400], err[256], name[64];
	uint8_t buf[SECT];
	struct stat st;
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "dmasim-test-img-%d.img", (int)getpid());
	tmp_path(path, sizeof(path), name);
	unlink(path);
	/* created on demand, sparse, and kept */
	snprintf(spec, sizeof(spec), "disk,id=d1,file=%s,size=4M", path);
	assert_int_equal(boot_with(spec, &m, err, sizeof(err)), 0);
	d = dmasim_disk_find(m, "d1");
	memset(buf, 0x5e, sizeof(buf));
	assert_int_equal(dmasim_disk_write(d, 4000, buf, 1, DMASIM_DMA), 0);
	dmasim_machine_destroy(m);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4 << 20);
	assert_true((uint64_t)st.st_blocks * 512 < (1u << 20));
	/* opened again without size=: the file says how big the disk is */
	snprintf(spec, sizeof(spec), "disk,id=d1,file=%s", path);
	assert_int_equal(boot_with(spec, &m, err, sizeof(err)), 0);
	d = dmasim_disk_find(m, "d1");
	assert_int_equal(dmasim_disk_info(d, &info), 0);
	assert_int_equal(info.sectors, 8192);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(dmasim_disk_read(d, 4000, buf, 1, DMASIM_PIO), 0);
	assert_int_equal(buf[0], 0x5e);
	dmasim_machine_destroy(m);
	/* a size= that disagrees with the file */
	snprintf(spec, sizeof(spec), "disk,file=%s,size=8M", path);
	assert_int_equal(boot_with(spec, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "has 4194304 bytes but size= asks for 8388608"));
	/* a file that is not whole sectors */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, 100), 100);
	close(fd);
	snprintf(spec, sizeof(spec), "disk,file=%s", path);
	assert_int_equal(boot_with(spec, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "has 100 bytes, not a whole number of 512-byte sectors"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prd_hole),
		cmocka_unit_test(test_prd_table_errors),
		cmocka_unit_test(test_bme_clear),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_image_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * PIO against DMA on the same disk read (the seed's table, measured).
 * The same N MiB (default 16) are read three times from a disk whose
 * media is modelled at ATA UDMA/133 (133 MB/s) with ATA PIO mode 4
 * (16.7 MB/s) on its data port:
 *   pio          the CPU moves every 16-bit word through the data port;
 *   dma          the device's engine moves 4 MiB per request, the CPU
 *                sleeps in wait_for_completion until the interrupt;
 *   dma_overlap  1 MiB requests, two in flight, the CPU computing the
 *                CRC-32 of each block while the next one is transferred.
 * Per run: throughput, the CPU thread's busy fraction (its CPU time over
 * the wall time), interrupts taken and CPU time per MiB. Targets: PIO
 * keeps the CPU >= 95% busy; DMA leaves it >= 99% idle and reaches the
 * modelled media rate within 2%.
 *
 * The bench adds a disk "bench" for this; configure one yourself
 * (--device disk,id=bench,speed=sata,...) to measure another.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "dmasim/disk.h"
#include "dmasim/linux/mm.h"

#define DEFAULT_MIB   16
#define BLOCK_ORDER   10		/* 4 MiB per plain DMA request */
#define BLOCK_BYTES   (4u << 20)
#define OVERLAP_BYTES (1u << 20)	/* per request in the overlap run */
#define SECT	      DMASIM_DISK_SECTOR

struct run {
	double wall_s, cpu_s, work_s;
	uint64_t irqs;
	uint32_t crc;
	int err;
};

struct ctx {
	struct dmasim_machine *m;
	struct dmasim_disk *d;
	struct dmasim_disk_info info;
	uint64_t bytes;
	unsigned int nblocks;
	uint8_t *block[64 * 1024 / 4 + 1];
};

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CRC-32 (IEEE 802.3), a byte at a time: honest CPU work. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	static uint32_t table[256];

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static size_t block_len(const struct ctx *c, unsigned int i)
{
	uint64_t left = c->bytes - (uint64_t)i * BLOCK_BYTES;

	return left < BLOCK_BYTES ? (size_t)left : BLOCK_BYTES;
}

static uint32_t crc_all(const struct ctx *c)
{
	uint32_t crc = 0;

	for (unsigned int i = 0; i < c->nblocks; i++)
		crc = crc32_update(crc, c->block[i], block_len(c, i));
	return crc;
}

static void clear_blocks(struct ctx *c)
{
	for (unsigned int i = 0; i < c->nblocks; i++)
		memset(c->block[i], 0, block_len(c, i));
}

/* Put known data on the disk (by DMA; not measured). */
static int fill_disk(struct ctx *c, uint32_t *crc)
{
	uint32_t x = 2463534242u;

	for (unsigned int i = 0; i < c->nblocks; i++) {
		size_t n = block_len(c, i);
		int ret;

		for (size_t j = 0; j < n; j += 4) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			memcpy(c->block[i] + j, &x, 4);
		}
		ret = dmasim_disk_write(c->d, (uint64_t)i * (BLOCK_BYTES / SECT),
					c->block[i], (uint32_t)(n / SECT), DMASIM_DMA);
		if (ret)
			return ret;
	}
	*crc = crc_all(c);
	return 0;
}

static void run_begin(struct ctx *c, struct run *r, double *t0, double *c0)
{
	struct dmasim_disk_info i;

	clear_blocks(c);
	dmasim_disk_info(c->d, &i);
	r->irqs = i.irqs;
	*c0 = thread_cpu_s();
	*t0 = (double)bench_now_ns() * 1e-9;
}

static void run_end(struct ctx *c, struct run *r, double t0, double c0)
{
	struct dmasim_disk_info i;

	r->wall_s = (double)bench_now_ns() * 1e-9 - t0;
	r->cpu_s = thread_cpu_s() - c0;
	dmasim_disk_info(c->d, &i);
	r->irqs = i.irqs - r->irqs;
}

/* Read everything in 4 MiB requests, by @mode. */
static void run_plain(struct ctx *c, unsigned int mode, struct run *r)
{
	double t0, c0;

	run_begin(c, r, &t0, &c0);
	for (unsigned int i = 0; i < c->nblocks && !r->err; i++)
		r->err = dmasim_disk_read(c->d, (uint64_t)i * (BLOCK_BYTES / SECT),
					  c->block[i],
					  (uint32_t)(block_len(c, i) / SECT), mode);
	run_end(c, r, t0, c0);
	r->crc = crc_all(c);
}

static uint8_t *piece(struct ctx *c, unsigned int k, size_t *len)
{
	uint64_t off = (uint64_t)k * OVERLAP_BYTES, left = c->bytes - off;

	*len = left < OVERLAP_BYTES ? (size_t)left : OVERLAP_BYTES;
	return c->block[off / BLOCK_BYTES] + off % BLOCK_BYTES;
}

static int submit_piece(struct ctx *c, unsigned int k,
			struct dmasim_disk_req **q)
{
	size_t len;
	uint8_t *p = piece(c, k, &len);

	return dmasim_disk_submit(c->d, false,
				  (uint64_t)k * (OVERLAP_BYTES / SECT), p,
				  (uint32_t)(len / SECT), q);
}

/* 1 MiB requests, two in flight; the CPU checksums block k while block
 * k + 1 is being transferred. */
static void run_overlap(struct ctx *c, struct run *r)
{
	unsigned int n = (unsigned int)((c->bytes + OVERLAP_BYTES - 1) / OVERLAP_BYTES);
	struct dmasim_disk_req *q[2] = { NULL, NULL };
	double t0, c0;
	uint32_t crc = 0;

	run_begin(c, r, &t0, &c0);
	for (unsigned int k = 0; k < 2 && k < n && !r->err; k++)
		r->err = submit_piece(c, k, &q[k]);
	for (unsigned int k = 0; k < n && !r->err; k++) {
		size_t len;
		const uint8_t *p = piece(c, k, &len);
		double w0;

		r->err = dmasim_disk_wait(q[k % 2]);
		q[k % 2] = NULL;
		if (!r->err && k + 2 < n)
			r->err = submit_piece(c, k + 2, &q[k % 2]);
		w0 = thread_cpu_s();
		crc = crc32_update(crc, p, len);
		r->work_s += thread_cpu_s() - w0;
	}
	for (int i = 0; i < 2; i++)
		if (q[i])
			dmasim_disk_wait(q[i]);
	run_end(c, r, t0, c0);
	r->crc = crc;
}

/* ------------------------------------------------------------- setup */

static bool has_bench_disk(const struct dmasim_config *cfg)
{
	for (size_t i = 0; i < cfg->nr_devices; i++) {
		const char *s = cfg->devices[i], *id = strstr(s, ",id=bench");

		if (!strncmp(s, "disk,", 5) && id && (id[9] == ',' || !id[9]))
			return true;
	}
	return false;
}

static int boot(const struct bench_args *a, struct ctx *c, char *err,
		size_t errlen)
{
	struct dmasim_config cfg = *a->cfg;
	const char **devs = calloc(cfg.nr_devices + 1, sizeof(*devs));
	char spec[128];
	uint64_t size_mib = c->bytes >> 20 > 64 ? (c->bytes + (1 << 20) - 1) >> 20 : 64;
	int ret;

	if (!devs)
		return -ENOMEM;
	for (size_t i = 0; i < cfg.nr_devices; i++)
		devs[i] = cfg.devices[i];
	if (!has_bench_disk(&cfg)) {
		snprintf(spec, sizeof(spec), "disk,id=bench,size=%lluM,speed=ata-udma133",
			 (unsigned long long)size_mib);
		devs[cfg.nr_devices++] = spec;
	}
	cfg.devices = devs;
	ret = dmasim_machine_create(&cfg, &c->m, err, errlen);
	free(devs);
	return ret;
}

static int setup(const struct bench_args *a, struct ctx *c, char *err,
		 size_t errlen)
{
	int ret = boot(a, c, err, errlen);

	if (ret)
		return ret;
	dmasim_enter(c->m);
	c->d = dmasim_disk_find(c->m, "bench");
	if (!c->d || dmasim_disk_info(c->d, &c->info)) {
		snprintf(err, errlen, "no disk 'bench' with a driver");
		return -ENODEV;
	}
	if (c->info.sectors * SECT < c->bytes) {
		snprintf(err, errlen, "disk 'bench' holds %llu MiB, less than --mib",
			 (unsigned long long)(c->info.sectors * SECT >> 20));
		return -EINVAL;
	}
	c->nblocks = (unsigned int)((c->bytes + BLOCK_BYTES - 1) / BLOCK_BYTES);
	for (unsigned int i = 0; i < c->nblocks; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, BLOCK_ORDER);

		if (!p) {
			snprintf(err, errlen, "cannot allocate %llu MiB of buffers in the machine",
				 (unsigned long long)(c->bytes >> 20));
			return -ENOMEM;
		}
		c->block[i] = page_address(p);
	}
	return 0;
}

static void teardown(struct ctx *c)
{
	for (unsigned int i = 0; i < c->nblocks; i++)
		if (c->block[i])
			__free_pages(virt_to_page(c->block[i]), BLOCK_ORDER);
	dmasim_machine_destroy(c->m);
}

/* ------------------------------------------------------------ report */

static double mbps(const struct ctx *c, const struct run *r)
{
	return (double)c->bytes / 1e6 / r->wall_s;
}

static double hidden(const struct run *dma, const struct run *ov)
{
	double h;

	if (ov->work_s <= 0)
		return 0;
	h = (dma->wall_s + ov->work_s - ov->wall_s) / ov->work_s;
	return h < 0 ? 0 : h > 1 ? 1 : h;
}

static void json_run(FILE *out, const char *name, const struct ctx *c,
		     const struct run *r, double model)
{
	double mib = (double)c->bytes / (1 << 20);

	fprintf(out, "\"%s\":{\"mb_per_s\":%.2f,\"cpu_busy\":%.4f,\"irqs\":%llu,"
		"\"cpu_ms_per_mib\":%.3f,\"wall_s\":%.4f,\"ratio_to_model\":%.4f",
		name, mbps(c, r), r->cpu_s / r->wall_s,
		(unsigned long long)r->irqs, r->cpu_s * 1e3 / mib, r->wall_s,
		model > 0 ? mbps(c, r) / model : 0);
}

static void print_json(FILE *out, const struct ctx *c, const struct run *r,
		       bool match, bool met)
{
	double media = (double)c->info.dma_bytes_per_sec / 1e6;
	double pio = c->info.pio_bytes_per_sec / 1e6;

	fprintf(out, "{\"mib\":%.2f,\"disk\":\"%s\",\"media_mb_per_s\":%.2f,"
		"\"pio_mb_per_s_model\":%.2f,\"pio_mode\":%u,\"pio_width\":%u,",
		(double)c->bytes / (1 << 20), c->info.id, media, pio,
		c->info.pio_mode, c->info.pio_width);
	json_run(out, "pio", c, &r[0], pio);
	fprintf(out, "},");
	json_run(out, "dma", c, &r[1], media);
	fprintf(out, "},");
	json_run(out, "dma_overlap", c, &r[2], media);
	fprintf(out, ",\"work_ms\":%.2f,\"overlap\":%.3f},", r[2].work_s * 1e3,
		hidden(&r[1], &r[2]));
	fprintf(out, "\"data_match\":%s,\"targets_met\":%s}\n",
		match ? "true" : "false", met ? "true" : "false");
}

static void print_row(FILE *out, const char *name, const struct ctx *c,
		      const struct run *r, double model)
{
	char ratio[16] = "-";

	if (model > 0)
		snprintf(ratio, sizeof(ratio), "%.3f", mbps(c, r) / model);
	fprintf(out, "  %-12s %8.1f %9s %9.3f %8llu %12.3f %8.3f\n", name,
		mbps(c, r), ratio, r->cpu_s / r->wall_s,
		(unsigned long long)r->irqs,
		r->cpu_s * 1e3 / ((double)c->bytes / (1 << 20)), r->wall_s);
}

static const char *ok(bool b)
{
	return b ? "ok" : "MISSED";
}

static void print_table(FILE *out, const struct ctx *c, const struct run *r,
			bool match)
{
	double media = (double)c->info.dma_bytes_per_sec / 1e6;
	double pio = c->info.pio_bytes_per_sec / 1e6;
	double dma_ratio = media > 0 ? mbps(c, &r[1]) / media : 1;

	fprintf(out, "pio-vs-dma: the same %.0f MiB read from disk '%s' (%s), three ways\n",
		(double)c->bytes / (1 << 20), c->info.id, c->info.pci_name);
	fprintf(out, "  media %s%.0f MB/s; PIO mode %u, %u-bit data port (%.1f MB/s)\n\n",
		media > 0 ? "" : "unlimited, ", media, c->info.pio_mode,
		c->info.pio_width, pio);
	fprintf(out, "  run              MB/s  vs model  CPU busy     irqs  CPU ms/MiB   wall s\n");
	print_row(out, "pio", c, &r[0], pio);
	print_row(out, "dma", c, &r[1], media);
	print_row(out, "dma_overlap", c, &r[2], media);
	fprintf(out, "\n  dma_overlap: the CPU computed the CRC-32 of each 1 MiB block while the\n"
		     "  next was in flight: %.0f ms of work, %.0f%% of it hidden under the transfer.\n",
		r[2].work_s * 1e3, 100 * hidden(&r[1], &r[2]));
	fprintf(out, "  data: the three runs read %s (crc32 %08x)\n",
		match ? "the same bytes as were written" : "DIFFERENT bytes", r[0].crc);
	fprintf(out, "  targets: PIO CPU busy >= 0.95 [%s]; DMA CPU busy <= 0.01 [%s];"
		     " DMA within 2%% of the media rate [%s]\n",
		ok(r[0].cpu_s / r[0].wall_s >= 0.95), ok(r[1].cpu_s / r[1].wall_s <= 0.01),
		ok(media <= 0 || (dma_ratio >= 0.98 && dma_ratio <= 1.02)));
}

int bench_pio_vs_dma(const struct bench_args *a)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct run r[3] = { { 0 } };
	char err[256] = "";
	uint32_t want = 0;
	bool match, met;
	double media, ratio;
	int ret;

	if (!c)
		return 1;
	c->bytes = (a->mib ? a->mib : DEFAULT_MIB) << 20;
	ret = setup(a, c, err, sizeof(err));
	if (!ret)
		ret = fill_disk(c, &want);
	if (!ret) {
		run_plain(c, DMASIM_PIO, &r[0]);
		run_plain(c, DMASIM_DMA, &r[1]);
		run_overlap(c, &r[2]);
		ret = r[0].err ? r[0].err : r[1].err ? r[1].err : r[2].err;
		if (ret)
			snprintf(err, sizeof(err), "a read failed: %s", strerror(-ret));
	}
	if (ret) {
		fprintf(stderr, "dmasim bench pio-vs-dma: %s\n", err[0] ? err : strerror(-ret));
		if (c->m)
			teardown(c);
		free(c);
		return 1;
	}
	match = r[0].crc == want && r[1].crc == want && r[2].crc == want;
	media = (double)c->info.dma_bytes_per_sec / 1e6;
	ratio = media > 0 ? mbps(c, &r[1]) / media : 1;
	met = r[0].cpu_s / r[0].wall_s >= 0.95 && r[1].cpu_s / r[1].wall_s <= 0.01 &&
	      ratio >= 0.98 && ratio <= 1.02;
	if (a->json)
		print_json(a->out, c, r, match, met);
	else
		print_table(a->out, c, r, match);
	teardown(c);
	free(c);
	return match ? 0 : 1;
}

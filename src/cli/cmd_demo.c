/*
 * dmasim demo: a narrated tour of a machine for someone who has never
 * looked inside Linux's memory management: the boot log, the zones, and
 * the buddy allocator splitting and merging blocks as pages are allocated
 * and freed, then a disk read by PIO and by DMA with what each costs the
 * CPU, and the DMA API (demo_dma.c). It uses only what a driver could: the Linux page API and the
 * machine's /proc files, and the disk's block API.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/demo.h"
#include "dmasim/disk.h"
#include "dmasim/linux/mm.h"

#define NZONES 3
static const char *const zone_names[NZONES] = { "DMA", "DMA32", "Normal" };

void demo_heading(const char *title)
{
	printf("\n== %s ==\n\n", title);
}

#define heading demo_heading

static void show_file_lines(struct dmasim_machine *m, const char *path,
			    const char *const *keep)
{
	char *text, *line, *save = NULL;
	size_t len;

	if (dmasim_read(m, path, &text, &len))
		return;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool show = !keep;

		for (int i = 0; keep && keep[i]; i++)
			show |= strstr(line, keep[i]) != NULL;
		if (show)
			printf("  %s\n", line);
	}
	free(text);
}

static void show_boot(struct dmasim_machine *m)
{
	static const char *const keep[] = { "Command line", "BIOS-e820", "Zone",
					    "DMA", "Normal", "node", "Memory:",
					    NULL };
	char *log = dmasim_dmesg(m, 0, DMASIM_LEVELS_ALL), *line, *save = NULL;

	heading("1. Boot");
	printf("The machine boots like a PC: the firmware reports a memory map (e820),\n"
	       "the kernel sorts RAM into zones and hands free pages to the buddy\n"
	       "allocator. The memory lines of its log ('dmasim dmesg' shows all):\n\n");
	for (line = log ? strtok_r(log, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		for (int i = 0; keep[i]; i++)
			if (strstr(line, keep[i])) {
				printf("  %s\n", line);
				break;
			}
	free(log);
}

static void show_zones(struct dmasim_machine *m)
{
	static const char *const keep[] = { "Node 0, zone", "spanned", "present",
					    "managed", "pages free", NULL };

	heading("2. Zones");
	printf("Old devices cannot reach all of RAM, so Linux keeps memory for them:\n"
	       "  DMA     below 16 MiB  for ISA-era devices (24 address bits)\n"
	       "  DMA32   below 4 GiB   for 32-bit PCI devices\n"
	       "  Normal  everything else\n"
	       "A request may be served from its zone or a lower one, never a higher\n"
	       "one. The 3-4 GiB range is the PCI hole: no RAM there, so DMA32 spans\n"
	       "more pages than are present. From /proc/zoneinfo (in 4 KiB pages):\n\n");
	show_file_lines(m, "/proc/zoneinfo", keep);
}

static void get_counts(struct dmasim_machine *m,
		       unsigned long c[NZONES][DMASIM_NR_ORDERS])
{
	for (int z = 0; z < NZONES; z++)
		if (dmasim_buddy_counts(m, zone_names[z], c[z]))
			memset(c[z], 0, sizeof(c[z]));
}

/* buddyinfo rows, with a '^' under each count that changed since @before. */
static void show_buddy(unsigned long now[NZONES][DMASIM_NR_ORDERS],
		       unsigned long before[NZONES][DMASIM_NR_ORDERS])
{
	printf("  order:           ");
	for (int o = 0; o < DMASIM_NR_ORDERS; o++)
		printf("%6d ", o);
	printf("\n");
	for (int z = 0; z < NZONES; z++) {
		bool changed = false;

		printf("  Node 0, zone %8s ", zone_names[z]);
		for (int o = 0; o < DMASIM_NR_ORDERS; o++) {
			printf("%6lu ", now[z][o]);
			changed |= before && now[z][o] != before[z][o];
		}
		printf("\n");
		if (!changed)
			continue;
		printf("                           ");
		for (int o = 0; o < DMASIM_NR_ORDERS; o++)
			printf("%6s ", now[z][o] != before[z][o] ? "^" : "");
		printf("\n");
	}
}

static const char *zone_of(phys_addr_t pa)
{
	return pa < (16ULL << 20) ? "DMA" : pa < (4ULL << 30) ? "DMA32" : "Normal";
}

struct demo_alloc {
	gfp_t gfp;
	const char *gfp_name;
	unsigned int order;
	struct page *page;
};

static void allocate(struct demo_alloc *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		phys_addr_t pa;

		a[i].page = alloc_pages(a[i].gfp, a[i].order);
		if (!a[i].page) {
			printf("  alloc_pages(%s, %u) failed\n", a[i].gfp_name, a[i].order);
			continue;
		}
		pa = page_to_phys(a[i].page);
		printf("  alloc_pages(%-10s, %2u) -> %5lu KiB at phys 0x%09llx  (zone %s)\n",
		       a[i].gfp_name, a[i].order, (PAGE_SIZE << a[i].order) >> 10,
		       (unsigned long long)pa, zone_of(pa));
	}
}

static void show_buddy_allocator(struct dmasim_machine *m)
{
	unsigned long boot[NZONES][DMASIM_NR_ORDERS], now[NZONES][DMASIM_NR_ORDERS];
	struct demo_alloc a[] = {
		{ GFP_KERNEL | GFP_DMA, "GFP_DMA", 3, NULL },
		{ GFP_KERNEL | GFP_DMA32, "GFP_DMA32", 9, NULL },
		{ GFP_KERNEL, "GFP_KERNEL", 0, NULL },
		{ GFP_KERNEL, "GFP_KERNEL", 10, NULL },
	};
	size_t n = sizeof(a) / sizeof(a[0]);

	heading("3. The buddy allocator");
	printf("Free memory is kept in blocks of 2^order pages (order 0 = 4 KiB up to\n"
	       "order 10 = 4 MiB). /proc/buddyinfo counts the free blocks per order:\n\n");
	get_counts(m, boot);
	show_buddy(boot, NULL);
	printf("\nNow four allocations, one per line:\n\n");
	allocate(a, n);
	get_counts(m, now);
	printf("\nA request is cut from the smallest free block that fits; what is left\n"
	       "goes back as one free block per smaller order. The 4 KiB request split\n"
	       "a 4 MiB block into 4 KiB + 4 KiB + 8 KiB + ... + 2 MiB, so a block\n"
	       "appeared at every order below 10 (marked ^):\n\n");
	show_buddy(now, boot);
	for (size_t i = 0; i < n; i++)
		if (a[i].page)
			__free_pages(a[i].page, a[i].order);
	get_counts(m, now);
	printf("\nAll four blocks are freed again. But small blocks (orders 0-3, and 9)\n"
	       "first go to a per-CPU list, as on Linux, so the next allocation on\n"
	       "this CPU is cheap and needs no lock; /proc/buddyinfo does not count\n"
	       "them (/proc/zoneinfo's \"pagesets\" does):\n\n");
	show_buddy(now, boot);
	dmasim_drain_pages(m);
	get_counts(m, now);
	printf("\nDraining the per-CPU lists (Linux does it when a CPU goes offline;\n"
	       "dmasim when a thread leaves the machine) gives them to the buddy\n"
	       "allocator, which merges each block with its free \"buddy\" (the\n"
	       "neighbour at address ^ size) again and again. The counts are exactly\n"
	       "those of boot again: %s\n\n",
	       memcmp(now, boot, sizeof(now)) ? "NO, they differ!" : "yes, they are.");
	show_buddy(now, boot);
}

static void show_exhaustion(struct dmasim_machine *m)
{
	enum { MAXB = 64 };
	struct page *blocks[MAXB];
	int n = 0;
	char *log, *line, *save = NULL;

	heading("4. When a zone runs out");
	printf("GFP_DMA can only be served from the 16 MiB DMA zone. Asking it for\n"
	       "1 MiB blocks (order 8) until it refuses:\n\n");
	while (n < MAXB && (blocks[n] = alloc_pages(GFP_KERNEL | GFP_DMA, 8)))
		n++;
	printf("  got %d blocks (%d MiB); the next request failed and returned NULL.\n"
	       "  The zone keeps a reserve (its \"min\" watermark) for emergencies,\n"
	       "  and the kernel logged what Linux logs:\n\n", n, n);
	log = dmasim_dmesg(m, 0, DMASIM_LEVELS_ALL);
	for (line = log ? strtok_r(log, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "page allocation failure"))
			printf("  %s\n", line);
	free(log);
	while (n > 0)
		__free_pages(blocks[--n], 8);
}

struct xfer_cost {
	double wall_s, cpu_s;
	uint64_t irqs;
	int err;
};

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Read @nsect sectors into @buf by @mode: wall time, this thread's CPU
 * time and the disk's interrupts. */
static struct xfer_cost timed_read(struct dmasim_disk *d, void *buf,
				   uint32_t nsect, unsigned int mode)
{
	struct dmasim_disk_info before, after;
	struct xfer_cost c;
	double t0, c0;

	dmasim_disk_info(d, &before);
	t0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	c.err = dmasim_disk_read(d, 0, buf, nsect, mode);
	c.cpu_s = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	c.wall_s = now_s(CLOCK_MONOTONIC) - t0;
	dmasim_disk_info(d, &after);
	c.irqs = after.irqs - before.irqs;
	return c;
}

static void cost_row(const char *name, const struct xfer_cost *c,
		     uint64_t bytes, const char *note)
{
	if (c->err) {
		printf("  %-4s  failed: %s\n", name, strerror(-c->err));
		return;
	}
	printf("  %-4s %8.1f %9.1f%% %11llu   %s\n", name,
	       (double)bytes / 1e6 / c->wall_s, 100 * c->cpu_s / c->wall_s,
	       (unsigned long long)c->irqs, note);
}

static void show_pio_vs_dma(struct dmasim_machine *m)
{
	enum { ORDER = 9, NSECT = (2 << 20) / DMASIM_DISK_SECTOR };
	struct dmasim_disk *d = dmasim_disk_find(m, "disk0");
	struct dmasim_disk_info info;
	struct xfer_cost pio, dma;
	struct page *page;

	heading("5. PIO against DMA");
	if (!d || !(page = alloc_pages(GFP_KERNEL, ORDER))) {
		printf("  (this machine has no disk0: see 'dmasim bench pio-vs-dma')\n");
		return;
	}
	dmasim_disk_info(d, &info);
	printf("A disk can hand its data over two ways. With PIO (programmed I/O) the\n"
	       "CPU fetches every 16-bit word from the controller's data port itself,\n"
	       "and each access stalls it for a bus cycle. With DMA the controller\n"
	       "writes the data into memory on its own and raises one interrupt at\n"
	       "the end; meanwhile the CPU sleeps, or does other work. Reading the\n"
	       "same 2 MiB from disk0 (%s) both ways:\n\n", info.pci_name);
	pio = timed_read(d, page_address(page), NSECT, DMASIM_PIO);
	dma = timed_read(d, page_address(page), NSECT, DMASIM_DMA);
	printf("          MB/s  CPU busy  interrupts\n");
	cost_row("PIO", &pio, 2 << 20, "one per 512-byte sector");
	cost_row("DMA", &dma, 2 << 20, "one for the whole request");
	printf("\nPIO is bounded by ATA PIO mode %u's %.1f MB/s and keeps the CPU busy the\n"
	       "whole time; DMA reaches the disk's modelled %.0f MB/s and leaves the CPU\n"
	       "idle. 'dmasim bench pio-vs-dma' measures it on 16 MiB, and shows the\n"
	       "CPU doing useful work while a transfer is under way.\n",
	       info.pio_mode, info.pio_bytes_per_sec / 1e6,
	       (double)info.dma_bytes_per_sec / 1e6);
	__free_pages(page, ORDER);
}

int cmd_demo(struct cli *cli, int argc, char **argv)
{
	struct dmasim_machine *m;
	int i = cli_parse(cli, argc, argv, NULL);

	if (i < 0)
		return EXIT_USAGE;
	if (i < argc) {
		cli_error(cli, "unexpected argument '%s'", argv[i]);
		return EXIT_USAGE;
	}
	m = cli_boot(cli);
	if (!m)
		return cli->boot_exit;
	printf("dmasim tour: a %llu MiB %s machine with %s DMA\n",
	       (unsigned long long)(cli->cfg.ram_bytes >> 20),
	       dmasim_platform_name(cli->cfg.platform),
	       cli->cfg.platform == DMASIM_PLATFORM_X86 ? "cache-coherent"
							: "non-coherent");
	show_boot(m);
	show_zones(m);
	show_buddy_allocator(m);
	show_exhaustion(m);
	show_pio_vs_dma(m);
	demo_dma_api(m);
	demo_iommu(&cli->cfg);
	demo_attack(&cli->cfg);
	heading("Next");
	printf("  dmasim cat /proc/zoneinfo            watermarks and lowmem protection\n"
	       "  dmasim --cmdline mem=2G demo         the same machine limited by mem=\n"
	       "  dmasim --ram 512M cat /proc/iomem    a smaller machine's address map\n"
	       "  dmasim bench boot                    how fast a machine boots\n"
	       "  dmasim bench pio-vs-dma              PIO against DMA, measured\n"
	       "  dmasim bench map --path bounce       what a mapping costs, bounced\n"
	       "  dmasim -c intel_iommu=on ls /sys/kernel/iommu_groups   IOMMU groups\n"
	       "  dmasim -c intel_iommu=on vfio        a device assigned to a VM\n"
	       "  dmasim attack all                    every DMA attack under every policy\n"
	       "  dmasim --iommu-hw amd dmesg          an AMD-Vi machine boots\n"
	       "  dmasim cat /sys/kernel/debug/dma-api/dump   live mappings\n"
	       "  dmasim help                          everything else\n");
	dmasim_machine_destroy(m);
	return 0;
}

/*
 * The tour's DMA API steps: the three kinds of mapping, what a missing
 * sync does on a non-coherent machine (and does not do on x86), a 32-bit
 * device bouncing through swiotlb, and a DMA-API debugging report. The
 * "driver" is code in this file using Linux's DMA API on a device of the
 * machine; the "device" writes memory through the bus as a bus master.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/demo.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/scatterlist.h"

#define DEV_NAME "0000:00:00.0"

static const char *zone_of(dma_addr_t a)
{
	return a < (16ULL << 20) ? "DMA" : a < (4ULL << 30) ? "DMA32" : "Normal";
}

static void mapping_types(struct dmasim_machine *m, struct device *dev)
{
	struct page *pg = alloc_pages(GFP_KERNEL, 1);
	char *buf = page_address(pg), seen[16] = "";
	struct scatterlist sgl[3], *sg;
	dma_addr_t h, a;
	void *c;
	int n, i;

	c = dma_alloc_coherent(dev, 4096, &h, GFP_KERNEL);
	printf("  coherent   dma_alloc_coherent(4096)       -> DMA address %#llx (%s zone)\n"
	       "             shared by CPU and device for its whole life; no syncs.\n",
	       (unsigned long long)h, zone_of(h));
	dma_free_coherent(dev, 4096, c, h);
	a = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
	if (!dma_mapping_error(dev, a)) {
		dmasim_phys_write(m, a, "from the device", 16);
		dma_unmap_single(dev, a, 4096, DMA_FROM_DEVICE);
		memcpy(seen, buf, sizeof(seen) - 1);
	}
	printf("  streaming  dma_map_single(FROM_DEVICE)    -> %#llx; the device writes,\n"
	       "             the driver unmaps, then reads \"%s\".\n",
	       (unsigned long long)a, seen);
	sg_init_table(sgl, 3);
	sg_set_buf(&sgl[0], buf, 512);
	sg_set_buf(&sgl[1], buf + 3000, 2000);
	sg_set_buf(&sgl[2], buf + 6000, 1000);
	n = dma_map_sg(dev, sgl, 3, DMA_TO_DEVICE);
	printf("  scatter-gather  dma_map_sg(3 pieces)      -> %d segments:", n);
	for_each_sg(sgl, sg, n, i)
		printf(" %#llx+%u", (unsigned long long)sg_dma_address(sg),
		       sg_dma_len(sg));
	printf("\n");
	if (n)
		dma_unmap_sg(dev, sgl, 3, DMA_TO_DEVICE);
	__free_pages(pg, 1);
}

/* The same small driver, with or without its sync, on @platform. */
static void stale_read(enum dmasim_platform platform, bool sync, char *out,
		       size_t len)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m, *prev = dmasim_enter(NULL);
	struct device *dev;
	struct page *pg;
	char *buf;
	dma_addr_t a;

	dmasim_config_init(&cfg);
	cfg.ram_bytes = 256ULL << 20;
	cfg.platform = platform;
	cfg.nodefaults = true;
	cfg.cmdline = "dma_debug=off";
	snprintf(out, len, "?");
	if (dmasim_machine_create(&cfg, &m, NULL, 0) == 0) {
		dev = dmasim_pci_device(m, DEV_NAME);
		pg = alloc_pages(GFP_KERNEL, 0);
		buf = page_address(pg);
		strcpy(buf, "old CPU data");
		a = dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL);
		dmasim_phys_write(m, a, "new DMA data", 13);
		if (sync)
			dma_sync_single_for_cpu(dev, a, 4096, DMA_BIDIRECTIONAL);
		snprintf(out, len, "%s", buf);
		dma_unmap_single(dev, a, 4096, DMA_BIDIRECTIONAL);
		__free_pages(pg, 0);
		dmasim_machine_destroy(m);
	}
	dmasim_enter(prev);
}

static void caches(void)
{
	char x86_bug[32], arm_bug[32], arm_fix[32];

	stale_read(DMASIM_PLATFORM_X86, false, x86_bug, sizeof(x86_bug));
	stale_read(DMASIM_PLATFORM_ARM64, false, arm_bug, sizeof(arm_bug));
	stale_read(DMASIM_PLATFORM_ARM64, true, arm_fix, sizeof(arm_fix));
	printf("On a non-coherent machine the CPU works in its caches, so a driver\n"
	       "must hand buffers over with dma_sync_*. A driver that maps a buffer,\n"
	       "lets the device write \"new DMA data\" and reads it without\n"
	       "dma_sync_single_for_cpu() sees:\n\n"
	       "  x86   (coherent), no sync:      \"%s\"\n"
	       "  arm64 (non-coherent), no sync: \"%s\"   <- stale, every time\n"
	       "  arm64 with the sync:           \"%s\"\n",
	       x86_bug, arm_bug, arm_fix);
}

static unsigned long debugfs_ul(struct dmasim_machine *m, const char *file)
{
	char path[96], *s = NULL;
	unsigned long v = 0;

	snprintf(path, sizeof(path), "/sys/kernel/debug/swiotlb/%s", file);
	if (dmasim_read(m, path, &s, NULL) == 0)
		v = strtoul(s, NULL, 10);
	free(s);
	return v;
}

static void bounce(struct dmasim_machine *m, struct device *dev)
{
	struct page *pg = alloc_pages(GFP_KERNEL, 0);
	dma_addr_t a;

	if (debugfs_ul(m, "io_tlb_nslabs") == 0 || page_to_phys(pg) < (4ULL << 30)) {
		printf("This machine has no RAM above 4 GiB, so no swiotlb pool: try\n"
		       "'dmasim --ram 8G demo' (or --cmdline swiotlb=force).\n");
		__free_pages(pg, 0);
		return;
	}
	dma_set_mask(dev, DMA_BIT_MASK(32));
	memset(page_address(pg), 'b', 4096);
	a = dma_map_single(dev, page_address(pg), 4096, DMA_TO_DEVICE);
	printf("A device that can only address 32 bits maps a buffer at %#llx, above\n"
	       "4 GiB. dma-direct bounces it through swiotlb: the device gets %#llx\n"
	       "in the pool below 4 GiB, a copy the CPU made on map.\n\n"
	       "  /sys/kernel/debug/swiotlb: io_tlb_nslabs %lu, io_tlb_used %lu,\n"
	       "  bounced_bytes_to_device %lu\n",
	       (unsigned long long)page_to_phys(pg), (unsigned long long)a,
	       debugfs_ul(m, "io_tlb_nslabs"), debugfs_ul(m, "io_tlb_used"),
	       debugfs_ul(m, "bounced_bytes_to_device"));
	if (!dma_mapping_error(dev, a))
		dma_unmap_single(dev, a, 4096, DMA_TO_DEVICE);
	dma_set_mask(dev, DMA_BIT_MASK(64));
	__free_pages(pg, 0);
}

static void debug_report(struct dmasim_machine *m, struct device *dev)
{
	struct page *pg = alloc_pages(GFP_KERNEL, 0);
	dma_addr_t a = dma_map_single(dev, page_address(pg), 4096, DMA_TO_DEVICE);
	char *log, *line, *save = NULL;

	/* two bugs: no dma_mapping_error() check, and the wrong size */
	dmasim_dma_debug_all_errors(m, true);
	dma_unmap_single(dev, a, 2048, DMA_TO_DEVICE);
	dmasim_dma_debug_all_errors(m, false);
	__free_pages(pg, 0);
	printf("DMA-API debugging checks every mapping, as CONFIG_DMA_API_DEBUG does.\n"
	       "A driver that unmaps with the wrong size and never called\n"
	       "dma_mapping_error() gets, in dmesg:\n\n");
	log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	for (line = log ? strtok_r(log, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "DMA-API: ") && strstr(line, "device driver"))
			printf("  %s\n", line);
	free(log);
}

void demo_dma_api(struct dmasim_machine *m)
{
	struct device *dev = dmasim_pci_device(m, DEV_NAME);

	if (!dev)
		return;
	dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	demo_heading("6. The DMA API: three kinds of mapping");
	printf("A driver never hands a device a CPU pointer: it asks the DMA API\n"
	       "for a DMA address (here for the device at %s):\n\n", DEV_NAME);
	mapping_types(m, dev);
	demo_heading("7. Caches: why the syncs matter");
	caches();
	demo_heading("8. Bounce buffers: a 32-bit device on a big machine");
	bounce(m, dev);
	demo_heading("9. DMA-API debugging");
	debug_report(m, dev);
}

/*
 * An example DMA client written only against Linux's headers (as a
 * driver would include them) and the dmasim machine API: it boots a
 * machine, takes a memcpy channel of the DMA controller, maps a source
 * and a destination buffer with the streaming DMA API, lets the engine
 * copy, waits for the completion callback, unmaps and checks the data.
 *
 * The same code runs on a coherent (x86) and a non-coherent (arm64)
 * machine because it follows the DMA API's ownership rules: the CPU
 * writes before dma_map_single(TO_DEVICE) and reads after
 * dma_unmap_single(FROM_DEVICE).
 *
 *   cc dma_copy_client.c $(PKG_CONFIG_PATH=build pkg-config --cflags --libs dmasim)
 *   ./a.out [x86|arm64]
 */
#include <stdio.h>
#include <string.h>

#include <dmasim/dmasim.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/gfp.h>
#include <linux/mm.h>

#define LEN (64 * 1024)

static void copy_done(void *arg)
{
	complete(arg);
}

/* Copy @src to @dst through @chan; 0 or a negative errno. */
static int dma_copy(struct dma_chan *chan, void *dst, void *src, size_t len)
{
	struct device *dev = chan->device->dev;
	struct dma_async_tx_descriptor *tx;
	struct completion done;
	dma_addr_t s, d;
	dma_cookie_t cookie;
	int ret = 0;

	s = dma_map_single(dev, src, len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, s))
		return -ENOMEM;
	d = dma_map_single(dev, dst, len, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, d)) {
		dma_unmap_single(dev, s, len, DMA_TO_DEVICE);
		return -ENOMEM;
	}
	init_completion(&done);
	tx = dmaengine_prep_dma_memcpy(chan, d, s, len, DMA_PREP_INTERRUPT |
							 DMA_CTRL_ACK);
	if (!tx) {
		ret = -EBUSY;
		goto out;
	}
	tx->callback = copy_done;
	tx->callback_param = &done;
	cookie = dmaengine_submit(tx);
	if (dma_submit_error(cookie)) {
		ret = -EIO;
		goto out;
	}
	dma_async_issue_pending(chan);
	if (!wait_for_completion_timeout(&done, msecs_to_jiffies(3000)) ||
	    dma_async_is_tx_complete(chan, cookie, NULL, NULL) != DMA_COMPLETE)
		ret = -EIO;
out:
	dma_unmap_single(dev, d, len, DMA_FROM_DEVICE);
	dma_unmap_single(dev, s, len, DMA_TO_DEVICE);
	return ret;
}

int main(int argc, char **argv)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m;
	struct dma_chan *chan;
	dma_cap_mask_t mask;
	unsigned char *src, *dst;
	char err[256];
	int ret;

	dmasim_config_init(&cfg);
	cfg.ram_bytes = 1ULL << 30;
	cfg.dma_debug_abort = true; /* any DMA-API misuse fails the run */
	if (argc > 1 && dmasim_parse_platform(argv[1], &cfg.platform)) {
		fprintf(stderr, "usage: %s [x86|arm64]\n", argv[0]);
		return 2;
	}
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err))) {
		fprintf(stderr, "boot failed: %s\n", err);
		return 1;
	}
	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_chan_by_mask(&mask);
	if (IS_ERR(chan)) {
		fprintf(stderr, "no memcpy channel\n");
		return 1;
	}
	src = (unsigned char *)__get_free_pages(GFP_KERNEL, get_order(LEN));
	dst = (unsigned char *)__get_free_pages(GFP_KERNEL, get_order(LEN));
	for (int i = 0; i < LEN; i++)
		src[i] = (unsigned char)(i * 7 + 3);
	memset(dst, 0, LEN);
	ret = dma_copy(chan, dst, src, LEN);
	if (!ret && memcmp(dst, src, LEN))
		ret = -EIO;
	printf("%s: %s copied %d KiB: %s\n",
	       dmasim_platform_name(cfg.platform), dma_chan_name(chan),
	       LEN / 1024, ret ? "FAILED" : "data verified");
	free_pages((unsigned long)src, get_order(LEN));
	free_pages((unsigned long)dst, get_order(LEN));
	dma_release_channel(chan);
	dmasim_machine_destroy(m);
	return ret ? 1 : 0;
}

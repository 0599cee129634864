/*
 * The dmaengine core (drivers/dma/dmaengine.c in Linux): the machine's
 * list of DMA providers, channel naming (dma<N>chan<M>), exclusive
 * channel allocation by capability mask, dma_sync_wait, and the
 * /sys/class/dma/<chan>/ attributes (in_use, memcpy_count,
 * bytes_transferred). Providers register at probe and unregister at
 * remove, both while the machine is single-threaded (boot, teardown);
 * clients claim a channel with an atomic compare-and-swap.
 */
#include "dmasim/linux/dmaengine.h"

#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "kernel/machine.h"

#define SYNC_WAIT_NS (5000ULL * 1000000ULL) /* dma_sync_wait: 5 s */

static struct machine *dev_machine(const struct device *dev)
{
	return (struct machine *)dev->machine;
}

static void show_chan(struct machine *m, void *ctx, struct strbuf *out,
		      int what)
{
	struct dma_chan *chan = ctx;

	(void)m;
	if (what == 0)
		strbuf_printf(out, "%d\n", atomic_load(&chan->client_count));
	else if (what == 1)
		strbuf_printf(out, "%lu\n", atomic_load(&chan->memcpy_count));
	else
		strbuf_printf(out, "%lu\n", atomic_load(&chan->bytes_transferred));
}

static void show_in_use(struct machine *m, void *ctx, struct strbuf *out)
{
	show_chan(m, ctx, out, 0);
}

static void show_memcpy_count(struct machine *m, void *ctx, struct strbuf *out)
{
	show_chan(m, ctx, out, 1);
}

static void show_bytes(struct machine *m, void *ctx, struct strbuf *out)
{
	show_chan(m, ctx, out, 2);
}

static int chan_sysfs(struct machine *m, struct dma_chan *chan)
{
	static const struct {
		const char *name;
		vfs_show_fn show;
	} attrs[] = {
		{ "in_use", show_in_use },
		{ "memcpy_count", show_memcpy_count },
		{ "bytes_transferred", show_bytes },
	};
	char path[96];
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(path, sizeof(path), "/sys/class/dma/%s/%s", chan->name,
			 attrs[i].name);
		ret = vfs_add_file(&m->vfs, path, attrs[i].show, chan);
	}
	return ret;
}

int dma_async_device_register(struct dma_device *device)
{
	struct machine *m;
	struct dma_device **tail;
	int id = 0, i = 0;

	if (!device || !device->dev || !device->dev->machine ||
	    !device->device_issue_pending || !device->device_tx_status)
		return -EINVAL;
	m = dev_machine(device->dev);
	for (tail = &m->dma_devices; *tail; tail = &(*tail)->next)
		if ((*tail)->dev_id >= id)
			id = (*tail)->dev_id + 1;
	device->dev_id = id;
	device->chancnt = 0;
	for (struct dma_chan *c = device->channels; c; c = c->device_node) {
		c->device = device;
		c->chan_id = i++;
		snprintf(c->name, sizeof(c->name), "dma%dchan%d", id, c->chan_id);
		atomic_store(&c->client_count, 0);
		if (chan_sysfs(m, c))
			return -ENOMEM;
		device->chancnt++;
	}
	device->next = NULL;
	*tail = device;
	return 0;
}

void dma_async_device_unregister(struct dma_device *device)
{
	struct machine *m = dev_machine(device->dev);

	for (struct dma_device **p = &m->dma_devices; *p; p = &(*p)->next)
		if (*p == device) {
			*p = device->next;
			break;
		}
}

static bool chan_matches(struct dma_chan *chan, const dma_cap_mask_t *mask)
{
	for (unsigned int i = 0; i < DMA_CAP_LONGS; i++)
		if ((mask->bits[i] & chan->device->cap_mask.bits[i]) !=
		    mask->bits[i])
			return false;
	return true;
}

/* Claim a free channel @chan for a client; allocates its resources. */
static bool chan_claim(struct dma_chan *chan)
{
	int expected = 0;

	if (!atomic_compare_exchange_strong(&chan->client_count, &expected, 1))
		return false;
	if (chan->device->device_alloc_chan_resources &&
	    chan->device->device_alloc_chan_resources(chan) < 0) {
		atomic_store(&chan->client_count, 0);
		return false;
	}
	return true;
}

struct dma_chan *__dma_request_channel(const dma_cap_mask_t *mask,
				       dma_filter_fn fn, void *fn_param,
				       void *np)
{
	struct machine *m = current_machine();

	(void)np;
	if (!m || !mask)
		return NULL;
	for (struct dma_device *d = m->dma_devices; d; d = d->next)
		for (struct dma_chan *c = d->channels; c; c = c->device_node) {
			if (!chan_matches(c, mask) ||
			    atomic_load(&c->client_count))
				continue;
			if (fn && !fn(c, fn_param))
				continue;
			if (chan_claim(c))
				return c;
		}
	return NULL;
}

struct dma_chan *dma_request_chan_by_mask(const dma_cap_mask_t *mask)
{
	struct dma_chan *chan = __dma_request_channel(mask, NULL, NULL, NULL);

	return chan ? chan : ERR_PTR(-ENODEV);
}

void dma_release_channel(struct dma_chan *chan)
{
	if (IS_ERR_OR_NULL(chan))
		return;
	if (atomic_load(&chan->client_count) != 1) {
		pr_warn(dev_machine(chan->device->dev),
			"dma_release_channel: %s is not in use\n", chan->name);
		return;
	}
	if (chan->device->device_free_chan_resources)
		chan->device->device_free_chan_resources(chan);
	atomic_store(&chan->client_count, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Linux polls (cpu_relax) for up to 5 s; here the poller yields, then
 * naps briefly so a long transfer does not cost a whole CPU. */
enum dma_status dma_sync_wait(struct dma_chan *chan, dma_cookie_t cookie)
{
	uint64_t start = now_ns();
	enum dma_status status;
	unsigned int spins = 0;

	dma_async_issue_pending(chan);
	for (;;) {
		status = dma_async_is_tx_complete(chan, cookie, NULL, NULL);
		if (status != DMA_IN_PROGRESS)
			break;
		if (now_ns() - start > SYNC_WAIT_NS) {
			dev_err(chan->device->dev, "dma_sync_wait: timeout!\n");
			return DMA_ERROR;
		}
		if (++spins < 1000) {
			sched_yield();
		} else {
			struct timespec nap = { 0, 20000 };

			nanosleep(&nap, NULL);
		}
	}
	return status;
}

int dmaengine_get_stats(struct dma_chan *chan,
			struct dmaengine_chan_stats *stats)
{
	if (IS_ERR_OR_NULL(chan) || !stats)
		return -EINVAL;
	if (!chan->device->device_get_stats)
		return -EOPNOTSUPP;
	return chan->device->device_get_stats(chan, stats);
}

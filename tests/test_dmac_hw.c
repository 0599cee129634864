/*
 * The dmac device at the register level, as its datasheet
 * (include/dmasim/hw/dmac.h) describes it: identification and
 * capabilities, options reflected in registers, and a ring of
 * hand-written descriptors on a channel taken from the driver (requested,
 * then reprogrammed): bad opcode, zero length, SG totals that differ,
 * counters, a misaligned completion record and an invalid ring halting the
 * channel, abort recovering it. Device option errors are checked too.
 */
#include "test_dmac_util.h"

#include "hw/pci.h"
#include "kernel/machine.h"

struct raw {
	struct dmasim_machine *m;
	struct dma_chan *chan;
	struct device *dev;
	char *bar, *ch;
	struct dmac_desc *ring;
	dma_addr_t ring_dma;
	struct dmac_cr *cr;
	dma_addr_t cr_dma;
	u16 tail;
};

static void raw_setup(struct raw *r, const char *opts)
{
	r->m = dmac_boot(opts, true);
	r->chan = memcpy_chan();
	r->dev = chan_device(r->chan);
	r->bar = pci_iomap(to_pci_dev(r->dev), 0, 0);
	r->ch = r->bar + DMAC_CH_BASE(r->chan->chan_id);
	r->ring = dma_alloc_coherent(r->dev, 16 * 64, &r->ring_dma, GFP_KERNEL);
	r->cr = dma_alloc_coherent(r->dev, 16 * 32, &r->cr_dma, GFP_KERNEL);
	writel(0, r->ch + DMAC_CH_CTRL);
	writeq(r->ring_dma, r->ch + DMAC_CH_RING_BASE);
	writel(16, r->ch + DMAC_CH_RING_SIZE);
	writel(DMAC_CTRL_ENABLE, r->ch + DMAC_CH_CTRL);
	r->tail = 0;
}

static void raw_teardown(struct raw *r)
{
	writel(0, r->ch + DMAC_CH_CTRL);
	dma_free_coherent(r->dev, 16 * 64, r->ring, r->ring_dma);
	dma_free_coherent(r->dev, 16 * 32, r->cr, r->cr_dma);
	dma_release_channel(r->chan);	/* the driver reprograms its ring */
	dmasim_machine_destroy(r->m);
}

/* Queue one descriptor and ring the doorbell (inline: runs now). */
static struct dmac_cr *raw_run(struct raw *r, struct dmac_desc d)
{
	unsigned int slot = r->tail & 15;

	if (!d.compl)
		d.compl = r->cr_dma + slot * 32;
	d.flags |= DMAC_DESC_COMPL | DMAC_DESC_EOB;
	r->ring[slot] = d;
	memset(&r->cr[slot], 0, 32);
	r->tail++;
	writel(r->tail, r->ch + DMAC_CH_TAIL);
	return &r->cr[slot];
}

static u32 state(struct raw *r)
{
	return readl(r->ch + DMAC_CH_STATUS);
}

static void test_identity(void **st)
{
	struct raw r;
	u32 cap;

	(void)st;
	raw_setup(&r, "channels=3,ring=64,coalesce=5");
	assert_int_equal(readl(r.bar + DMAC_REG_ID), DMAC_ID_VALUE);
	assert_int_equal(readl(r.bar + DMAC_REG_VERSION), DMAC_VERSION_VALUE);
	cap = readl(r.bar + DMAC_REG_CAP);
	assert_int_equal(DMAC_CAP_CHANNELS(cap), 3);
	assert_int_equal(DMAC_CAP_MAX_SG(cap), DMAC_MAX_SG);
	assert_true(cap & DMAC_CAP_COPY_SG);
	assert_int_equal(readl(r.bar + DMAC_REG_RING_SIZE), 64);
	assert_int_equal(readl(r.bar + DMAC_REG_INTCOAL), 5);
	/* a channel that does not exist reads as zero, an odd size as ones */
	assert_int_equal(readl(r.bar + DMAC_CH_BASE(3) + DMAC_CH_HEAD), 0);
	assert_int_equal(readw(r.ch + DMAC_CH_HEAD), 0xffff);
	assert_int_equal(readq(r.ch + DMAC_CH_RING_BASE), r.ring_dma);
	assert_int_equal(readl(r.ch + DMAC_CH_RING_BASE + 4), r.ring_dma >> 32);
	assert_int_equal(DMAC_STATUS_STATE(state(&r)), DMAC_STATE_IDLE);
	raw_teardown(&r);
}

static void test_raw_descriptors(void **st)
{
	struct raw r;
	struct dbuf s, d, sg;
	struct dmac_cr *cr;
	struct dmac_sg_entry *e;

	(void)st;
	raw_setup(&r, NULL);
	s = dbuf_alloc(r.dev, 4096, 0x42);
	d = dbuf_alloc(r.dev, 4096, 0);
	sg = dbuf_alloc(r.dev, 4096, 0);
	cr = raw_run(&r, (struct dmac_desc){ .opcode = DMAC_OP_COPY, .len = 100,
					      .src = s.dma, .dst = d.dma, .user = 77 });
	assert_int_equal(cr->status, DMAC_CR_SUCCESS);
	assert_int_equal(cr->bytes_completed, 100);
	assert_int_equal(cr->user, 77);
	assert_int_equal(cr->index, 0);
	assert_int_equal(d.cpu[99], 0x42);
	assert_int_equal(d.cpu[100], 0);
	cr = raw_run(&r, (struct dmac_desc){ .opcode = 9 });
	assert_int_equal(cr->status, DMAC_CR_BAD_OPCODE);
	cr = raw_run(&r, (struct dmac_desc){ .opcode = DMAC_OP_FILL, .dst = d.dma });
	assert_int_equal(cr->status, DMAC_CR_INVALID_LEN);
	e = (struct dmac_sg_entry *)sg.cpu;
	e[0] = (struct dmac_sg_entry){ s.dma, 64, 0 };
	e[1] = (struct dmac_sg_entry){ d.dma + 1024, 32, 0 };
	cr = raw_run(&r, (struct dmac_desc){ .opcode = DMAC_OP_COPY_SG, .len = 64,
					      .src = sg.dma, .dst = sg.dma + 16,
					      .nsrc = 1, .ndst = 1 });
	assert_int_equal(cr->status, DMAC_CR_INVALID_LEN);
	cr = raw_run(&r, (struct dmac_desc){ .opcode = DMAC_OP_COPY_SG, .len = 64,
					      .src = sg.dma, .dst = BAD_ADDR,
					      .nsrc = 1, .ndst = 1 });
	assert_int_equal(cr->status, DMAC_CR_INVALID_DST);
	assert_int_equal(cr->fault_addr, BAD_ADDR);
	cr = raw_run(&r, (struct dmac_desc){ .opcode = DMAC_OP_NOP });
	assert_int_equal(cr->status, DMAC_CR_SUCCESS);
	assert_int_equal(readq(r.ch + DMAC_CH_COMPLETED), 6);
	assert_int_equal(readq(r.ch + DMAC_CH_ERRORS), 4);
	assert_int_equal(readq(r.ch + DMAC_CH_BYTES), 100);
	assert_int_equal(readl(r.ch + DMAC_CH_HEAD), 6);
	/* a misaligned completion record halts the channel */
	raw_run(&r, (struct dmac_desc){ .opcode = DMAC_OP_NOP, .compl = r.cr_dma + 4 });
	assert_int_equal(DMAC_STATUS_STATE(state(&r)), DMAC_STATE_HALTED);
	assert_int_equal(DMAC_STATUS_ERROR(state(&r)), DMAC_ERR_CR_WRITE);
	assert_int_equal(readq(r.ch + DMAC_CH_ERR_ADDR), r.cr_dma + 4);
	assert_int_equal(readl(r.ch + DMAC_CH_HEAD), 6);
	/* abort recovers it; the halted descriptor completes as aborted */
	writel(DMAC_CTRL_ENABLE | DMAC_CTRL_ABORT, r.ch + DMAC_CH_CTRL);
	assert_int_equal(DMAC_STATUS_STATE(state(&r)), DMAC_STATE_IDLE);
	assert_int_equal(readl(r.ch + DMAC_CH_HEAD), 7);
	cr = raw_run(&r, (struct dmac_desc){ .opcode = DMAC_OP_NOP });
	assert_int_equal(cr->status, DMAC_CR_SUCCESS);
	/* an invalid ring halts too */
	writel(0, r.ch + DMAC_CH_CTRL);
	writel(24, r.ch + DMAC_CH_RING_SIZE);
	writel(DMAC_CTRL_ENABLE, r.ch + DMAC_CH_CTRL);
	writel(1, r.ch + DMAC_CH_TAIL);
	assert_int_equal(DMAC_STATUS_ERROR(state(&r)), DMAC_ERR_RING);
	dbuf_free(r.dev, &s);
	dbuf_free(r.dev, &d);
	dbuf_free(r.dev, &sg);
	raw_teardown(&r);
}

static void boot_fails(const char *opts, const char *msg)
{
	const char *specs[1] = { opts };
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[256] = "";

	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(256);
	cfg.nr_cpus = 1;
	cfg.devices = specs;
	cfg.nr_devices = 1;
	cfg.nodefaults = true;
	assert_int_equal(dmasim_machine_create(&cfg, &m, err, sizeof(err)), -EINVAL);
	assert_null(m);
	assert_string_equal(err, msg);
}

static void test_option_errors(void **st)
{
	(void)st;
	boot_fails("dmac,channels=0",
		   "--device 'dmac,channels=0': channels=0: expected a channel count from 1 to 8");
	boot_fails("dmac,ring=24",
		   "--device 'dmac,ring=24': ring=24: expected a ring size that is a power of two from 16 to 4096");
	boot_fails("dmac,coalesce=256",
		   "--device 'dmac,coalesce=256': coalesce=256: expected completions per interrupt from 1 to 255");
	boot_fails("dmac,mode=fast",
		   "--device 'dmac,mode=fast': mode=fast: expected thread or inline");
	boot_fails("dmac,latency=soon",
		   "--device 'dmac,latency=soon': latency=soon: 'soon' is not a time: use e.g. 500ns, 5us, 1ms (at most 100s)");
	boot_fails("dmac,speed=1",
		   "--device 'dmac,speed=1': 'speed' is not an option of dmac");
}

/* Options that work: a slow, latent device still moves the right bytes. */
static void test_paced(void **st)
{
	struct dmasim_machine *m;
	struct dma_chan *chan;
	struct dbuf s, d;
	dma_cookie_t c = 0;

	(void)st;
	m = dmac_boot("channels=1,bandwidth=1G,latency=20us,mode=thread", true);
	chan = memcpy_chan();
	s = dbuf_alloc(chan_device(chan), 65536, 0x5c);
	d = dbuf_alloc(chan_device(chan), 65536, 0);
	for (int i = 0; i < 8; i++)
		c = copy_submit(chan, d.dma + i * 8192u, s.dma + i * 8192u, 8192, 0);
	dma_async_issue_pending(chan);
	assert_int_equal(dma_sync_wait(chan, c), DMA_COMPLETE);
	assert_memory_equal(d.cpu, s.cpu, 65536);
	check_balanced(chan);
	dbuf_free(chan_device(chan), &s);
	dbuf_free(chan_device(chan), &d);
	dma_release_channel(chan);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_raw_descriptors),
		cmocka_unit_test(test_option_errors),
		cmocka_unit_test(test_paced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

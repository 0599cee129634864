/*
 * The disk controller model (programming interface: dmasim/hw/disk.h).
 * One ATA disk of 512-byte sectors kept in an image file, reached two
 * ways, as on a UDMA-era IDE controller:
 *
 * - PIO through the task file. The state machine runs in the register
 *   hooks, on the CPU thread that touches the registers: every data-port
 *   access stalls that CPU for one ATA PIO cycle (mode 4: 120 ns per
 *   16 bits, 16.7 MB/s), spinning on the clock as an IN or OUT waits
 *   for the bus. A drive's read-ahead buffer of 64 KiB makes each next
 *   sector ready at once; INTRQ (the MSI) is raised per DRQ block.
 * - DMA through a command ring with PRD tables, executed by the
 *   controller's engine: its own thread (sleeping while the modelled
 *   media time passes) or, in inline mode, the thread that rings the
 *   doorbell. Data goes between the image file and RAM with pread and
 *   pwrite on the host pointer bus_map gives, with no copy in between.
 *   A buffer that does not answer gives an error status in the slot; a
 *   ring the engine cannot read or write back to halts it, with the
 *   reason in a register (BME clear: every access is a master abort).
 *
 * Media speed presets: ATA UDMA mode 6 (133 MB/s), SATA 6 Gb/s
 * (600 MB/s), an NVMe drive (3500 MB/s), or unlimited.
 */
#include "dmasim/hw/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmasim/dmasim.h"
#include "hw/bus.h"
#include "hw/pace.h"
#include "hw/pci.h"
#include "kernel/machine.h"

#define DISK_DEFAULT_SIZE (64ULL << 20)
#define DISK_DEFAULT_BPS  133000000ULL /* ata-udma133 */
#define DISK_BUF_SECT	  128	       /* the drive's buffer: 64 KiB */
#define DISK_MAX_LBA	  (1ULL << 48)
#define MEDIA_CHUNK	  (256u << 10) /* pacing granularity of the engine */

enum xfer_kind { X_NONE, X_READ, X_WRITE };
enum dev_mode { MODE_DEFAULT, MODE_THREAD, MODE_INLINE };

struct disk_dev {
	struct pci_func *fn;
	/* options */
	char path[PATH_MAX];
	uint64_t size;
	uint64_t bps, latency;
	bool size_set, speed_set, bandwidth_set;
	unsigned int pio_mode, width; /* width 0: default 16 */
	bool pio_set;
	enum dev_mode mode;
	/* backing store */
	int fd;
	uint64_t nsect;
	pthread_mutex_t lock;
	pthread_cond_t kick, idle;
	bool sync_init;
	/* task file */
	uint8_t status, error, features, device, control;
	uint16_t count;
	uint64_t lba;
	bool intrq;
	/* the PIO transfer under way */
	enum xfer_kind x;
	uint8_t *buf;
	uint32_t buf_off, buf_len;    /* bytes */
	uint64_t media_lba;	      /* next sector to load or store */
	uint32_t x_left;	      /* sectors still to go through the port */
	uint64_t cycle_ns, next_cycle;
	/* the DMA ring */
	uint64_t ring_base;
	uint32_t ring_size, ctrl, head, tail, queued_upto, int_status;
	enum disk_halt halt;
	bool running, engine_active, abort, stop, inline_mode;
	pthread_t thread;
	bool has_thread;
	struct pace pace;
};

static struct disk_dev *dev_of(struct pci_func *fn)
{
	return fn->priv;
}

/* ---------------------------------------------------------------- options */

static int opt_speed(struct disk_dev *d, const char *val, char *err,
		     size_t errlen)
{
	static const struct { const char *name; uint64_t bps; } presets[] = {
		{ "ata-udma133", 133000000ULL }, { "sata", 600000000ULL },
		{ "nvme", 3500000000ULL }, { "unlimited", 0 },
	};

	if (d->bandwidth_set) {
		snprintf(err, errlen, "speed= and bandwidth= both set the media rate: give one");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (!strcmp(val, presets[i].name)) {
			d->bps = presets[i].bps;
			d->speed_set = true;
			return 0;
		}
	snprintf(err, errlen, "unknown speed: use ata-udma133 (133 MB/s), sata (600 MB/s), nvme (3500 MB/s) or unlimited, or bandwidth=RATE");
	return -EINVAL;
}

static int opt_bandwidth(struct disk_dev *d, const char *val, char *err,
			 size_t errlen)
{
	if (d->speed_set) {
		snprintf(err, errlen, "speed= and bandwidth= both set the media rate: give one");
		return -EINVAL;
	}
	if (pace_parse_rate(val, &d->bps, err, errlen))
		return -EINVAL;
	d->bandwidth_set = true;
	return 0;
}

static int opt_size(struct disk_dev *d, const char *val, char *err,
		    size_t errlen)
{
	if (dmasim_parse_size(val, &d->size, err, errlen))
		return -EINVAL;
	if (d->size < DISK_SECTOR_SIZE || d->size % DISK_SECTOR_SIZE) {
		snprintf(err, errlen, "a disk is a whole number of 512-byte sectors (at least one)");
		return -EINVAL;
	}
	if (d->size / DISK_SECTOR_SIZE > DISK_MAX_LBA) {
		snprintf(err, errlen, "more than 2^48 sectors (128 PiB), the limit of 48-bit LBA");
		return -EINVAL;
	}
	d->size_set = true;
	return 0;
}

static int opt_pio(struct disk_dev *d, const char *val, char *err,
		   size_t errlen)
{
	if (!strncmp(val, "mode", 4) && val[4] >= '0' && val[4] <= '4' &&
	    !val[5]) {
		d->pio_mode = (unsigned int)(val[4] - '0');
		d->pio_set = true;
		return 0;
	}
	snprintf(err, errlen, "expected an ATA PIO mode: mode0 (3.3 MB/s), mode1 (5.2), mode2 (8.3), mode3 (11.1) or mode4 (16.7)");
	return -EINVAL;
}

static int opt_mode(struct disk_dev *d, const char *val, char *err,
		    size_t errlen)
{
	if (!strcmp(val, "thread"))
		d->mode = MODE_THREAD;
	else if (!strcmp(val, "inline"))
		d->mode = MODE_INLINE;
	else {
		snprintf(err, errlen, "expected thread (the engine runs on its own thread) or inline (on the doorbell write)");
		return -EINVAL;
	}
	return 0;
}

static int disk_set_option(struct pci_func *fn, const char *key,
			   const char *val, char *err, size_t errlen)
{
	struct disk_dev *d = dev_of(fn);

	if (!strcmp(key, "file")) {
		if (!*val) {
			snprintf(err, errlen, "an empty path");
			return -EINVAL;
		}
		if (strlen(val) >= sizeof(d->path)) {
			snprintf(err, errlen, "the path is too long");
			return -EINVAL;
		}
		snprintf(d->path, sizeof(d->path), "%s", val);
		return 0;
	}
	if (!strcmp(key, "size"))
		return opt_size(d, val, err, errlen);
	if (!strcmp(key, "speed"))
		return opt_speed(d, val, err, errlen);
	if (!strcmp(key, "bandwidth"))
		return opt_bandwidth(d, val, err, errlen);
	if (!strcmp(key, "latency"))
		return pace_parse_time(val, &d->latency, err, errlen) ? -EINVAL : 0;
	if (!strcmp(key, "pio"))
		return opt_pio(d, val, err, errlen);
	if (!strcmp(key, "width")) {
		if (strcmp(val, "16") && strcmp(val, "32")) {
			snprintf(err, errlen, "the data port is 16 or 32 bits wide");
			return -EINVAL;
		}
		d->width = (unsigned int)atoi(val);
		return 0;
	}
	if (!strcmp(key, "mode"))
		return opt_mode(d, val, err, errlen);
	return -ENOENT;
}

/* ------------------------------------------------------- the image file */

static int open_temp(struct disk_dev *d, char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	char tmpl[PATH_MAX];

	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/dmasim-disk-XXXXXX", dir);
	d->fd = mkstemp(tmpl);
	if (d->fd < 0) {
		snprintf(err, errlen, "cannot create a temporary image in %s: %s",
			 dir, strerror(errno));
		return -errno;
	}
	unlink(tmpl);
	return 0;
}

/* Open (or create, sparse) the image and settle the disk's size. */
static int open_image(struct disk_dev *d, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	if (!d->path[0])
		ret = open_temp(d, err, errlen);
	else {
		d->fd = open(d->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		ret = d->fd < 0 ? -errno : 0;
		if (ret)
			snprintf(err, errlen, "cannot open image '%s': %s",
				 d->path, strerror(errno));
	}
	if (ret)
		return ret;
	if (fstat(d->fd, &st)) {
		snprintf(err, errlen, "cannot stat the image: %s", strerror(errno));
		return -errno;
	}
	if (st.st_size > 0) {
		uint64_t have = (uint64_t)st.st_size;

		if (d->size_set && have != d->size) {
			snprintf(err, errlen, "image '%s' has %llu bytes but size= asks for %llu",
				 d->path, (unsigned long long)have,
				 (unsigned long long)d->size);
			return -EINVAL;
		}
		if (have % DISK_SECTOR_SIZE) {
			snprintf(err, errlen, "image '%s' has %llu bytes, not a whole number of 512-byte sectors",
				 d->path, (unsigned long long)have);
			return -EINVAL;
		}
		d->size = have;
	} else {
		if (!d->size_set)
			d->size = DISK_DEFAULT_SIZE;
		if (ftruncate(d->fd, (off_t)d->size)) {
			snprintf(err, errlen, "cannot size the image to %llu bytes: %s",
				 (unsigned long long)d->size, strerror(errno));
			return -errno;
		}
	}
	d->nsect = d->size / DISK_SECTOR_SIZE;
	return 0;
}

/* Whole-buffer pread/pwrite: 0 or -1. */
static int media_io(int fd, bool write, void *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = write ? pwrite(fd, p, len, (off_t)off)
				  : pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && !write))
			return -1;
		p = (uint8_t *)p + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* ------------------------------------------------------ PIO: task file */

static void put_word(uint8_t *buf, unsigned int w, uint16_t v)
{
	buf[2 * w] = (uint8_t)v;
	buf[2 * w + 1] = (uint8_t)(v >> 8);
}

/* An ATA string: two characters a word, the first in the high byte. */
static void put_string(uint8_t *buf, unsigned int w, const char *s,
		       unsigned int chars)
{
	size_t n = strlen(s);

	for (unsigned int i = 0; i < chars; i += 2) {
		uint8_t hi = i < n ? (uint8_t)s[i] : ' ';
		uint8_t lo = i + 1 < n ? (uint8_t)s[i + 1] : ' ';

		put_word(buf, w + i / 2, (uint16_t)(hi << 8 | lo));
	}
}

static void build_identify(struct disk_dev *d)
{
	uint8_t *b = d->buf, sum = 0xa5;
	uint64_t n = d->nsect, n28 = n < 0x0fffffff ? n : 0x0fffffff;
	char serial[21];

	memset(b, 0, DISK_SECTOR_SIZE);
	snprintf(serial, sizeof(serial), "DS%02x%02x%x-%.10s", d->fn->bus,
		 PCI_SLOT(d->fn->devfn), PCI_FUNC(d->fn->devfn), d->fn->id);
	put_word(b, 0, 0x0040);		/* fixed, non-removable ATA device */
	put_string(b, 10, serial, 20);
	put_string(b, ATA_ID_FW_REV, "0.1", 8);
	put_string(b, ATA_ID_PROD, "DMASIM HARDDISK", ATA_ID_PROD_LEN);
	put_word(b, 47, 0x8000);	/* no READ MULTIPLE */
	put_word(b, 49, 0x0300);	/* LBA and DMA supported */
	put_word(b, 53, 0x0006);	/* words 64-70 and 88 valid */
	put_word(b, 60, (uint16_t)n28);
	put_word(b, 61, (uint16_t)(n28 >> 16));
	put_word(b, 63, 0x0007);	/* multiword DMA 0-2 */
	put_word(b, ATA_ID_PIO_MODES, d->pio_mode >= 4 ? 0x3 : d->pio_mode == 3);
	put_word(b, ATA_ID_MAJOR_VER, 0x01f0); /* ATA-4 .. ATA8-ACS */
	put_word(b, 83, 0x4400);	/* 48-bit addressing supported */
	put_word(b, 86, 0x0400);	/* ... and enabled */
	put_word(b, ATA_ID_UDMA_MODES, 0x407f); /* UDMA 0-6, 6 selected */
	for (unsigned int i = 0; i < 4; i++)
		put_word(b, ATA_ID_LBA_CAPACITY_2 + i, (uint16_t)(n >> (16 * i)));
	put_word(b, 106, 0x4000);	/* 512-byte logical sectors */
	for (unsigned int i = 0; i < 511; i++)
		sum = (uint8_t)(sum + b[i]);
	put_word(b, 255, (uint16_t)((uint8_t)-sum << 8 | 0xa5));
	d->buf_off = 0;
	d->buf_len = DISK_SECTOR_SIZE;
	d->x_left = 1;
	d->x = X_READ;
	d->media_lba = d->nsect; /* nothing more to load */
}

/* Set the status after a command ends, raising INTRQ unless nIEN. */
static bool tf_done(struct disk_dev *d, uint8_t error)
{
	d->x = X_NONE;
	d->error = error;
	d->status = ATA_DRDY | ATA_DSC | (error ? ATA_ERR : 0);
	d->intrq = !(d->control & ATA_NIEN);
	return d->intrq;
}

static bool tf_drq(struct disk_dev *d, bool interrupt)
{
	d->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
	d->intrq = interrupt && !(d->control & ATA_NIEN);
	return d->intrq;
}

/* Load the next piece of a PIO read into the drive's buffer. */
static bool pio_fill(struct disk_dev *d)
{
	uint32_t n = d->x_left < DISK_BUF_SECT ? d->x_left : DISK_BUF_SECT;

	if (media_io(d->fd, false, d->buf, (size_t)n * DISK_SECTOR_SIZE,
		     d->media_lba * DISK_SECTOR_SIZE))
		return tf_done(d, ATA_UNC | ATA_ABRT);
	d->media_lba += n;
	d->buf_off = 0;
	d->buf_len = n * DISK_SECTOR_SIZE;
	return tf_drq(d, true);
}

/* Store what the buffer holds of a PIO write. 0 or -1. */
static int pio_flush(struct disk_dev *d)
{
	int ret = media_io(d->fd, true, d->buf, d->buf_off,
			   d->media_lba * DISK_SECTOR_SIZE);

	d->media_lba += d->buf_off / DISK_SECTOR_SIZE;
	d->buf_off = 0;
	return ret;
}

static bool pio_start(struct disk_dev *d, bool write, bool ext)
{
	uint32_t count = ext ? (d->count ? d->count : 65536u)
			     : ((d->count & 0xff) ? (d->count & 0xffu) : 256u);
	uint64_t lba = d->lba & (ext ? DISK_MAX_LBA - 1 : 0x0fffffffULL);

	if (lba >= d->nsect || count > d->nsect - lba)
		return tf_done(d, ATA_IDNF | ATA_ABRT);
	d->media_lba = lba;
	d->x_left = count;
	d->buf_off = d->buf_len = 0;
	if (!write) {
		d->x = X_READ;
		return pio_fill(d);
	}
	d->x = X_WRITE;
	return tf_drq(d, false); /* PIO data-out: the first DRQ has no INTRQ */
}

static bool tf_command(struct disk_dev *d, uint8_t cmd)
{
	d->x = X_NONE;
	switch (cmd) {
	case ATA_CMD_READ_PIO:
	case ATA_CMD_READ_PIO_EXT:
		return pio_start(d, false, cmd == ATA_CMD_READ_PIO_EXT);
	case ATA_CMD_WRITE_PIO:
	case ATA_CMD_WRITE_PIO_EXT:
		return pio_start(d, true, cmd == ATA_CMD_WRITE_PIO_EXT);
	case ATA_CMD_IDENTIFY:
		build_identify(d);
		return tf_drq(d, true);
	case ATA_CMD_FLUSH:
	case ATA_CMD_FLUSH_EXT:
		return tf_done(d, fdatasync(d->fd) ? ATA_UNC | ATA_ABRT : 0);
	default: /* the DMA commands too: DMA is the ring's */
		return tf_done(d, ATA_ABRT);
	}
}

/* One PIO cycle per 16 bits, chained to the previous one when the CPU
 * comes back within a cycle (the bus is then busy back to back). */
static uint64_t pio_deadline(struct disk_dev *d, unsigned int bytes)
{
	uint64_t now = pace_now_ns(), begin = now;

	if (d->next_cycle && now < d->next_cycle + d->cycle_ns)
		begin = d->next_cycle;
	d->next_cycle = begin + d->cycle_ns * (bytes / 2);
	return d->next_cycle;
}

static void spin_until(uint64_t t)
{
	while (pace_now_ns() < t)
		;
}

/* After a sector went through the port. */
static bool pio_sector_done(struct disk_dev *d)
{
	bool write = d->x == X_WRITE;

	if (--d->x_left == 0) {
		if (write && pio_flush(d))
			return tf_done(d, ATA_UNC | ATA_ABRT);
		tf_done(d, 0);
		if (!write) /* data-in: no INTRQ after the last block */
			d->intrq = false;
		return d->intrq;
	}
	if (d->x == X_READ)
		return d->buf_off == d->buf_len ? pio_fill(d) : tf_drq(d, true);
	if (d->buf_off == DISK_BUF_SECT * DISK_SECTOR_SIZE && pio_flush(d))
		return tf_done(d, ATA_UNC | ATA_ABRT);
	return tf_drq(d, true);
}

static bool data_ok(struct disk_dev *d, unsigned int size, enum xfer_kind k)
{
	return (size == 2 || (size == 4 && d->width == 32)) && d->x == k &&
	       (d->status & ATA_DRQ);
}

static uint64_t pio_read_data(struct disk_dev *d, unsigned int size,
			      bool *irq, uint64_t *deadline)
{
	uint64_t v = 0;

	if (!data_ok(d, size, X_READ))
		return (1ULL << (8 * size)) - 1;
	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)d->buf[d->buf_off + i] << (8 * i);
	d->buf_off += size;
	*deadline = pio_deadline(d, size);
	if (d->buf_off % DISK_SECTOR_SIZE == 0)
		*irq = pio_sector_done(d);
	return v;
}

static void pio_write_data(struct disk_dev *d, uint64_t v, unsigned int size,
			   bool *irq, uint64_t *deadline)
{
	if (!data_ok(d, size, X_WRITE))
		return;
	for (unsigned int i = 0; i < size; i++)
		d->buf[d->buf_off + i] = (uint8_t)(v >> (8 * i));
	d->buf_off += size;
	*deadline = pio_deadline(d, size);
	if (d->buf_off % DISK_SECTOR_SIZE == 0)
		*irq = pio_sector_done(d);
}

/* ------------------------------------------------------ DMA: the engine */

struct dma_xfer {
	struct disk_dev *d;
	bool write;		/* to the disk: the device reads memory */
	uint64_t media_off;	/* byte offset in the image */
	uint32_t done, total;
	uint64_t t0;		/* when the modelled command began */
	enum disk_cmd_status st;
	uint8_t error;
	enum disk_halt halt;
};

static bool aborted(struct disk_dev *d)
{
	bool a;

	pthread_mutex_lock(&d->lock);
	a = d->abort || d->stop;
	pthread_mutex_unlock(&d->lock);
	return a;
}

/* Sleep until the media would have moved everything so far. */
static void media_pace(struct dma_xfer *x)
{
	struct disk_dev *d = x->d;
	uint64_t end;

	if (!d->pace.bytes_per_sec && !d->pace.latency_ns)
		return;
	end = x->t0 + pace_cost_ns(&d->pace, x->done);
	d->pace.busy_until_ns = end;
	if (end > pace_now_ns())
		pace_sleep_until(end);
}

static void xfer_fail(struct dma_xfer *x, enum pci_status ps,
		      enum disk_cmd_status st, uint8_t error)
{
	if (ps == PCI_STATUS_MASTER_ABORT)
		x->halt = DISK_HALT_MASTER_ABORT;
	x->st = st;
	x->error = error;
}

/* Move @len bytes between the image and the bus address @addr. */
static bool xfer_region(struct dma_xfer *x, uint64_t addr, uint32_t len)
{
	struct disk_dev *d = x->d;

	while (len) {
		size_t want = len < MEDIA_CHUNK ? len : MEDIA_CHUNK, n;
		uint8_t *h;
		enum pci_status ps;

		if (aborted(d)) {
			xfer_fail(x, PCI_STATUS_OK, DISK_ST_ABORTED, ATA_ABRT);
			return false;
		}
		ps = bus_map(d->fn, addr, want, !x->write, &h, &n);
		if (ps) {
			xfer_fail(x, ps, DISK_ST_BUS_ERROR, ATA_ICRC | ATA_ABRT);
			return false;
		}
		if (media_io(d->fd, x->write, h, n, x->media_off + x->done)) {
			xfer_fail(x, PCI_STATUS_OK, DISK_ST_MEDIA_ERROR,
				  ATA_UNC | ATA_ABRT);
			return false;
		}
		x->done += (uint32_t)n;
		addr += n;
		len -= (uint32_t)n;
		media_pace(x);
	}
	return true;
}

/* Walk the PRD table, moving the data of each entry. */
static void xfer_prds(struct dma_xfer *x, uint64_t prdt)
{
	for (uint32_t i = 0; x->done < x->total; i++) {
		struct disk_prd p;
		enum pci_status ps;
		uint32_t take;

		if (i == DISK_PRD_MAX_ENTRIES) {
			xfer_fail(x, PCI_STATUS_OK, DISK_ST_PRD_ERROR, ATA_ABRT);
			return;
		}
		ps = bus_read(x->d->fn, prdt + (uint64_t)i * sizeof(p), &p,
			      sizeof(p), NULL);
		if (ps || !p.len || p.len > DISK_PRD_MAX_LEN) {
			xfer_fail(x, ps, DISK_ST_PRD_ERROR, ATA_ABRT);
			return;
		}
		take = x->total - x->done < p.len ? x->total - x->done : p.len;
		if (!xfer_region(x, p.addr, take))
			return;
		if ((p.flags & DISK_PRD_EOT) && x->done < x->total) {
			xfer_fail(x, PCI_STATUS_OK, DISK_ST_PRD_ERROR, ATA_ABRT);
			return;
		}
	}
}

static void run_cmd(struct disk_dev *d, const struct disk_cmd *c,
		    struct dma_xfer *x)
{
	switch (c->opcode) {
	case ATA_CMD_READ_DMA_EXT:
	case ATA_CMD_WRITE_DMA_EXT:
		break;
	case ATA_CMD_FLUSH_EXT:
		if (fdatasync(d->fd))
			xfer_fail(x, PCI_STATUS_OK, DISK_ST_MEDIA_ERROR,
				  ATA_UNC | ATA_ABRT);
		media_pace(x);
		return;
	default:
		xfer_fail(x, PCI_STATUS_OK, DISK_ST_BAD_COMMAND, ATA_ABRT);
		return;
	}
	if (!c->nsect || c->nsect > DISK_CMD_MAX_SECT) {
		xfer_fail(x, PCI_STATUS_OK, DISK_ST_BAD_COMMAND, ATA_ABRT);
		return;
	}
	if (c->lba >= d->nsect || c->nsect > d->nsect - c->lba) {
		xfer_fail(x, PCI_STATUS_OK, DISK_ST_LBA_ERROR, ATA_IDNF | ATA_ABRT);
		return;
	}
	x->write = c->opcode == ATA_CMD_WRITE_DMA_EXT;
	x->media_off = c->lba * DISK_SECTOR_SIZE;
	x->total = c->nsect * DISK_SECTOR_SIZE;
	xfer_prds(x, c->prdt);
}

/* Write bytes_done and error, then the status byte last. */
static enum disk_halt write_back(struct disk_dev *d, uint64_t slot,
				 const struct dma_xfer *x)
{
	uint8_t head[5], st = (uint8_t)x->st;
	enum pci_status ps;

	memcpy(head, &x->done, 4);
	head[4] = x->error;
	ps = bus_write(d->fn, slot + offsetof(struct disk_cmd, bytes_done),
		       head, sizeof(head), NULL);
	atomic_thread_fence(memory_order_release);
	if (!ps)
		ps = bus_write(d->fn, slot + offsetof(struct disk_cmd, status),
			       &st, 1, NULL);
	if (ps == PCI_STATUS_MASTER_ABORT)
		return DISK_HALT_MASTER_ABORT;
	return ps ? DISK_HALT_STATUS_WRITE : DISK_HALT_NONE;
}

/* Execute the command in @slot. Returns why the ring must halt, if so. */
static enum disk_halt exec_cmd(struct disk_dev *d, uint64_t slot, bool chained,
			       bool *irq)
{
	struct dma_xfer x = { .d = d, .st = DISK_ST_OK };
	struct disk_cmd c;
	enum pci_status ps;
	uint64_t now;

	ps = bus_read(d->fn, slot, &c, offsetof(struct disk_cmd, bytes_done),
		      NULL);
	if (ps)
		return ps == PCI_STATUS_MASTER_ABORT ? DISK_HALT_MASTER_ABORT
						     : DISK_HALT_RING_FETCH;
	*irq = c.flags & DISK_CMD_IRQ;
	/* a command queued behind another starts when that one ended */
	now = pace_now_ns();
	x.t0 = chained && d->pace.busy_until_ns ? d->pace.busy_until_ns : now;
	if (x.t0 < d->pace.busy_until_ns)
		x.t0 = d->pace.busy_until_ns;
	run_cmd(d, &c, &x);
	if (x.halt)
		return x.halt;
	return write_back(d, slot, &x);
}

static bool engine_can_run(const struct disk_dev *d)
{
	return !d->stop && !d->abort && (d->ctrl & DISK_RING_ENABLE) &&
	       d->halt == DISK_HALT_NONE && d->head != d->tail;
}

static bool engine_halt(struct disk_dev *d, enum disk_halt why)
{
	d->halt = why;
	d->int_status |= DISK_INT_HALT;
	return true;
}

/* Execute ring slots while there are any. Called and returns with the
 * lock held; drops it while data moves and while the MSI is delivered. */
static void engine_run(struct disk_dev *d)
{
	while (engine_can_run(d)) {
		uint32_t idx = d->head;
		bool chained = (int32_t)(idx - d->queued_upto) < 0, irq = false;
		bool raise = false;
		uint64_t slot;
		enum disk_halt h;

		if (!d->ring_size) {
			raise = engine_halt(d, DISK_HALT_NO_RING);
		} else if (d->tail - d->head > d->ring_size) {
			raise = engine_halt(d, DISK_HALT_DOORBELL);
		} else {
			slot = d->ring_base + (uint64_t)(idx & (d->ring_size - 1)) *
						      sizeof(struct disk_cmd);
			d->running = true;
			pthread_mutex_unlock(&d->lock);
			h = exec_cmd(d, slot, chained, &irq);
			pthread_mutex_lock(&d->lock);
			d->running = false;
			if (d->abort || d->stop)
				break;
			if (h) {
				raise = engine_halt(d, h);
			} else {
				d->head = idx + 1;
				d->queued_upto = d->tail;
				if (irq) {
					d->int_status |= DISK_INT_DONE;
					raise = true;
				}
			}
		}
		if (raise) {
			pthread_mutex_unlock(&d->lock);
			pci_msi_raise(d->fn, 0);
			pthread_mutex_lock(&d->lock);
		}
	}
}

static void *engine_thread(void *arg)
{
	struct disk_dev *d = arg;
	struct cpu_ctx save;

	/* interrupt handlers run here and call kernel code */
	cpu_ctx_switch(d->fn->m, &save);
	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		if (engine_can_run(d)) {
			d->engine_active = true;
			engine_run(d);
			d->engine_active = false;
			pthread_cond_broadcast(&d->idle);
			continue;
		}
		pthread_cond_wait(&d->kick, &d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	cpu_ctx_restore(&save);
	return NULL;
}

/* New work for the engine: wake its thread, or run it here (inline). */
static void engine_kick(struct disk_dev *d)
{
	if (!engine_can_run(d))
		return;
	if (!d->inline_mode) {
		pthread_cond_signal(&d->kick);
		return;
	}
	if (d->engine_active)
		return; /* the thread running it will see the new tail */
	d->engine_active = true;
	engine_run(d);
	d->engine_active = false;
	pthread_cond_broadcast(&d->idle);
}

static void ring_reset(struct disk_dev *d)
{
	d->abort = true;
	while (d->engine_active)
		pthread_cond_wait(&d->idle, &d->lock);
	d->abort = false;
	d->head = d->tail = d->queued_upto = 0;
	d->halt = DISK_HALT_NONE;
	d->int_status = 0;
	d->ctrl &= ~(uint32_t)DISK_RING_RESET;
}

/* ------------------------------------------------------------ registers */

static uint64_t reg_read(struct disk_dev *d, uint64_t off, unsigned int size)
{
	switch (off) {
	case DISK_REG_ERROR:	return d->error;
	case DISK_REG_NSECT:	return d->count;
	case DISK_REG_LBA:	return d->lba;
	case DISK_REG_DEVICE:	return d->device;
	case DISK_REG_STATUS:
		d->intrq = false;
		return d->status;
	case DISK_REG_ALTSTATUS: return d->status;
	case DISK_REG_CAP:
		return DISK_CAP_RING | (d->width == 32 ? DISK_CAP_PIO32 : 0);
	case DISK_REG_PIO_CYCLE: return d->cycle_ns;
	case DISK_REG_MEDIA_BPS: return d->pace.bytes_per_sec;
	case DISK_REG_LATENCY:	return d->pace.latency_ns;
	case DISK_REG_RING_BASE: return d->ring_base;
	case DISK_REG_RING_SIZE: return d->ring_size;
	case DISK_REG_RING_CTRL: return d->ctrl;
	case DISK_REG_RING_TAIL: return d->tail;
	case DISK_REG_RING_HEAD: return d->head;
	case DISK_REG_RING_STATUS:
		return (d->running ? DISK_RING_RUNNING : 0) |
		       (d->halt ? DISK_RING_HALTED : 0) |
		       (uint32_t)d->halt << DISK_RING_HALT_SHIFT;
	case DISK_REG_INT_STATUS:
		return d->int_status | (d->intrq ? DISK_INT_INTRQ : 0);
	}
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static uint64_t disk_mmio_read(struct pci_func *fn, uint64_t off,
			       unsigned int size)
{
	struct disk_dev *d = dev_of(fn);
	uint64_t v, deadline = 0;
	bool irq = false;

	pthread_mutex_lock(&d->lock);
	if (off == DISK_REG_DATA)
		v = pio_read_data(d, size, &irq, &deadline);
	else
		v = reg_read(d, off, size);
	pthread_mutex_unlock(&d->lock);
	if (irq)
		pci_msi_raise(fn, 0);
	spin_until(deadline);
	return v;
}

static void ring_ctrl(struct disk_dev *d, uint32_t v)
{
	if (v & DISK_RING_RESET) {
		ring_reset(d);
		v &= ~(uint32_t)DISK_RING_RESET;
	}
	d->ctrl = v & DISK_RING_ENABLE;
	if (!(d->ctrl & DISK_RING_ENABLE))
		while (d->engine_active) /* stop: finish the command under way */
			pthread_cond_wait(&d->idle, &d->lock);
	engine_kick(d);
}

/* Register writes; returns whether INTRQ was raised. */
static bool reg_write(struct disk_dev *d, uint64_t off, uint64_t v,
		      unsigned int size, uint64_t *deadline)
{
	bool irq = false;

	switch (off) {
	case DISK_REG_DATA:
		pio_write_data(d, v, size, &irq, deadline);
		break;
	case DISK_REG_FEATURES: d->features = (uint8_t)v; break;
	case DISK_REG_NSECT:	d->count = (uint16_t)v; break;
	case DISK_REG_LBA:
		d->lba = size == 8 ? v : (d->lba & ~0xffffffffULL) | (uint32_t)v;
		break;
	case DISK_REG_LBA + 4:
		d->lba = (d->lba & 0xffffffffULL) | (uint64_t)(uint32_t)v << 32;
		break;
	case DISK_REG_DEVICE:	d->device = (uint8_t)v; break;
	case DISK_REG_COMMAND:	irq = tf_command(d, (uint8_t)v); break;
	case DISK_REG_CONTROL:
		d->control = (uint8_t)v;
		if (v & ATA_SRST) {
			d->x = X_NONE;
			d->status = ATA_DRDY | ATA_DSC;
			d->error = 0x01; /* diagnostic: no error */
			d->intrq = false;
		}
		break;
	case DISK_REG_RING_BASE:
		d->ring_base = size == 8 ? v : (d->ring_base & ~0xffffffffULL) | (uint32_t)v;
		break;
	case DISK_REG_RING_BASE + 4:
		d->ring_base = (d->ring_base & 0xffffffffULL) | (uint64_t)(uint32_t)v << 32;
		break;
	case DISK_REG_RING_SIZE:
		if (v && v <= DISK_RING_MAX && !(v & (v - 1)))
			d->ring_size = (uint32_t)v;
		break;
	case DISK_REG_RING_CTRL: ring_ctrl(d, (uint32_t)v); break;
	case DISK_REG_RING_TAIL:
		d->tail = (uint32_t)v;
		engine_kick(d);
		break;
	case DISK_REG_INT_STATUS: d->int_status &= ~(uint32_t)v; break;
	}
	return irq;
}

static void disk_mmio_write(struct pci_func *fn, uint64_t off, uint64_t v,
			    unsigned int size)
{
	struct disk_dev *d = dev_of(fn);
	uint64_t deadline = 0;
	bool irq;

	pthread_mutex_lock(&d->lock);
	irq = reg_write(d, off, v, size, &deadline);
	pthread_mutex_unlock(&d->lock);
	if (irq)
		pci_msi_raise(fn, 0);
	spin_until(deadline);
}

/* ------------------------------------------------------------ lifecycle */

static void apply_defaults(struct disk_dev *d)
{
	static const unsigned int cycle[] = ATA_PIO_CYCLE_NS;

	if (!d->speed_set && !d->bandwidth_set)
		d->bps = DISK_DEFAULT_BPS;
	if (!d->pio_set)
		d->pio_mode = 4;
	if (!d->width)
		d->width = 16;
	d->cycle_ns = cycle[d->pio_mode];
	d->inline_mode = d->mode == MODE_INLINE ||
			 (d->mode == MODE_DEFAULT && d->fn->m->cfg.inline_devices);
	d->status = ATA_DRDY | ATA_DSC;
	d->error = 0x01;
	pace_init(&d->pace, d->bps, d->latency);
}

static int start_engine(struct disk_dev *d, char *err, size_t errlen)
{
	int ret;

	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->kick, NULL);
	pthread_cond_init(&d->idle, NULL);
	d->sync_init = true;
	if (d->inline_mode)
		return 0;
	ret = pthread_create(&d->thread, NULL, engine_thread, d);
	if (ret) {
		snprintf(err, errlen, "cannot start the engine thread: %s",
			 strerror(ret));
		return -ret;
	}
	d->has_thread = true;
	return 0;
}

static int disk_realize(struct pci_func *fn, char *err, size_t errlen)
{
	struct disk_dev *d = dev_of(fn);
	int ret;

	d->fn = fn;
	d->fd = -1;
	apply_defaults(d);
	ret = open_image(d, err, errlen);
	if (ret)
		goto fail;
	d->buf = malloc(DISK_BUF_SECT * DISK_SECTOR_SIZE);
	if (!d->buf) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = start_engine(d, err, errlen);
	if (ret)
		goto fail;
	return 0;
fail:
	/* not realized: unrealize will not run, so undo here */
	if (d->sync_init) {
		pthread_cond_destroy(&d->idle);
		pthread_cond_destroy(&d->kick);
		pthread_mutex_destroy(&d->lock);
		d->sync_init = false;
	}
	free(d->buf);
	d->buf = NULL;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	return ret;
}

/* Quiesce: abort the command under way and stop the engine. */
static void disk_reset(struct pci_func *fn)
{
	struct disk_dev *d = dev_of(fn);

	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->kick);
	while (d->engine_active)
		pthread_cond_wait(&d->idle, &d->lock);
	pthread_mutex_unlock(&d->lock);
	if (d->has_thread)
		pthread_join(d->thread, NULL);
	d->has_thread = false;
}

static void disk_unrealize(struct pci_func *fn)
{
	struct disk_dev *d = dev_of(fn);

	disk_reset(fn);
	pthread_cond_destroy(&d->idle);
	pthread_cond_destroy(&d->kick);
	pthread_mutex_destroy(&d->lock);
	free(d->buf);
	close(d->fd);
}

const struct pci_type disk_type = {
	.name = "disk",
	.help = "block device backed by a sparse image file, PIO and DMA modes",
	.role = PCI_ROLE_ENDPOINT,
	.vendor = DISK_PCI_VENDOR, .device = DISK_PCI_DEVICE,
	.class_code = 0x010180,
	.revision = 0x01,
	.lspci_name = "dmasim ATA disk controller",
	.bar0_size = DISK_BAR0_SIZE,
	.nr_msi = 1,
	.priv_size = sizeof(struct disk_dev),
	.set_option = disk_set_option,
	.realize = disk_realize,
	.unrealize = disk_unrealize,
	.mmio_read = disk_mmio_read,
	.mmio_write = disk_mmio_write,
	.reset = disk_reset,
};

/*
 * dmasim - the machine API.
 *
 * A machine is RAM laid out like a PC, a small kernel booted on it and the
 * views that kernel offers (/proc, dmesg). Everything hangs off one
 * struct dmasim_machine: several machines can live in one process.
 *
 * Functions return 0 or a negative errno value. Functions that can fail on
 * user input also fill a caller-supplied message buffer saying what and
 * where.
 */
#ifndef DMASIM_DMASIM_H
#define DMASIM_DMASIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum dmasim_platform {
	DMASIM_PLATFORM_X86 = 0, /* cache-coherent DMA */
	DMASIM_PLATFORM_ARM64,   /* non-coherent: CPU view and RAM differ */
};

enum dmasim_clock {
	DMASIM_CLOCK_HOST = 0, /* follows the host's monotonic clock */
	DMASIM_CLOCK_VIRTUAL,  /* advances only when told: reproducible logs */
};

#define DMASIM_RAM_DEFAULT (8ULL << 30)
#define DMASIM_RAM_MIN	   (128ULL << 20)
#define DMASIM_RAM_MAX	   (4ULL << 40)
#define DMASIM_CMDLINE_MAX 2048 /* COMMAND_LINE_SIZE on x86, with the NUL */

enum dmasim_iommu {
	DMASIM_IOMMU_INTEL = 0, /* a VT-d unit (x86); used with intel_iommu=on */
	DMASIM_IOMMU_NONE,	/* no remapping hardware */
	DMASIM_IOMMU_AMD,	/* an AMD-Vi unit at 00:00.2 (x86), on by default */
};

struct dmasim_config {
	uint64_t ram_bytes;	       /* installed RAM, multiple of 1 MiB */
	enum dmasim_platform platform;
	const char *cmdline;	       /* kernel command line, NULL for none */
	unsigned int nr_cpus;	       /* 0: the host's CPU count */
	enum dmasim_clock clock;
	/* PCI devices, each a spec "TYPE[,key=value...]" as --device takes
	 * it (see docs/devices.md); added after the default devices unless
	 * @nodefaults. */
	const char *const *devices;
	size_t nr_devices;
	bool nodefaults;
	/* Run device engines inline, on the doorbell write, instead of on
	 * their own threads: deterministic, same results. */
	bool inline_devices;
	/* Cache line size of the non-coherent platform's CPU caches, in
	 * bytes: a power of two from 16 to 4096; 0 means 64. */
	unsigned int cache_line;
	/* The platform's DMA remapping hardware (x86 only). */
	enum dmasim_iommu iommu;
	/* Abort the process on a DMA-API debugging violation, so a test
	 * that misuses the DMA API fails at the spot (see docs/api.md). */
	bool dma_debug_abort;
	/* The firmware reports ATS support: VT-d's DMAR table has an ATSR
	 * covering every root port (ALL_PORTS), so the kernel may enable
	 * ATS for trusted devices with the capability below them. AMD-Vi
	 * needs no table (its unit says IotlbSup). */
	bool ats;
};

struct dmasim_machine;

/* Fill @cfg with the defaults: 8 GiB x86, empty command line, host clock. */
void dmasim_config_init(struct dmasim_config *cfg);

/*
 * Create and boot a machine. On failure returns -errno and writes a message
 * to @err (if not NULL). The calling thread enters the new machine if it is
 * in none (see dmasim_enter).
 */
int dmasim_machine_create(const struct dmasim_config *cfg,
			  struct dmasim_machine **out, char *err, size_t errlen);
void dmasim_machine_destroy(struct dmasim_machine *m);

/*
 * Bind the calling thread to @m (as a CPU of it), so the Linux-named API
 * that takes no device (alloc_pages, ...) works on @m. Returns the machine
 * the thread was in before, or NULL. dmasim_enter(NULL) leaves; a thread
 * that exits inside a machine leaves it then. A machine must not be
 * destroyed while another thread is in it.
 */
struct dmasim_machine *dmasim_enter(struct dmasim_machine *m);
struct dmasim_machine *dmasim_current(void);
/* The CPU id the calling thread holds in its machine, or -1. */
int dmasim_cpu_id(void);

/* Read a file of the machine's views (/proc/buddyinfo, ...). *text is
 * NUL-terminated, to be freed with free(). -ENOENT, -EISDIR. */
int dmasim_read(struct dmasim_machine *m, const char *path, char **text,
		size_t *len);
/* List a directory: *names is a malloc'd array of malloc'd names, sorted.
 * -ENOENT, -ENOTDIR. Free with dmasim_free_names. */
int dmasim_list(struct dmasim_machine *m, const char *path, char ***names,
		size_t *count);
void dmasim_free_names(char **names, size_t count);
/* Write @len bytes of @buf to a writable file of the views, as a write(2)
 * to sysfs does: the file sees at most 4096 bytes, a NUL after them, and
 * a single trailing newline is ignored where Linux ignores it; writing
 * nothing does nothing. 0, -ENOENT, -ENOTDIR, -ELOOP, -EISDIR, -EACCES
 * (a read-only file), or the file's own error (-EINVAL for a value it
 * does not take, -EBUSY, ...). Paths follow links as dmasim_read does. */
int dmasim_write(struct dmasim_machine *m, const char *path, const char *buf,
		 size_t len);
/* The text of symbolic link @path (not followed), as readlink(2) gives
 * it; *target is malloc'd. -EINVAL (not a link), -ENOENT, -ENOTDIR, -ELOOP.
 * dmasim_read and dmasim_list follow links; a link's name is listed. */
int dmasim_readlink(struct dmasim_machine *m, const char *path,
		    char **target);

/* The kernel log as util-linux dmesg prints it by default ("[%5lu.%06lu]
 * text"): @flags adds "<level>" prefixes (RAW) or drops timestamps
 * (NOTIME); only levels whose bit is set in @level_mask are shown
 * (DMASIM_LEVELS_ALL for all). Returns a malloc'd string (NULL: no memory). */
#define DMASIM_DMESG_RAW    0x1u
#define DMASIM_DMESG_NOTIME 0x2u
#define DMASIM_LEVELS_ALL   0xffu
char *dmasim_dmesg(struct dmasim_machine *m, unsigned int flags,
		   unsigned int level_mask);
/* The log as the console printed it during boot: levels below the
 * console log level (7; "quiet" makes it 4, loglevel=N sets it). */
char *dmasim_console(struct dmasim_machine *m);
/* Problems found in the kernel command line (one line each), or "". */
const char *dmasim_cmdline_problems(struct dmasim_machine *m);

/* A physical access as a bus master makes it: RAM only. -EFAULT for a
 * hole or beyond RAM (a bus error), never a crash. */
int dmasim_phys_read(struct dmasim_machine *m, uint64_t phys, void *buf,
		     size_t len);
int dmasim_phys_write(struct dmasim_machine *m, uint64_t phys,
		      const void *buf, size_t len);

/* Read @len bytes from offset 0 of the configuration space of PCI
 * function @name ("0000:00:02.0", as /sys/bus/pci/devices lists them),
 * as lspci reads the sysfs config file. -ENOENT, -EINVAL. */
int dmasim_pci_config(struct dmasim_machine *m, const char *name,
		      uint8_t *buf, size_t len);

/*
 * Make PCI function @name ("0000:00:01.0") read or write memory as a bus
 * master at bus address @addr: through the IOMMU when one translates for
 * it. 0; -EIO when the access fails (unsupported request: a hole, or an
 * IOMMU fault, which the kernel logs); -EPERM when its bus mastering is
 * off; -ENOENT for no such function.
 */
int dmasim_bus_read(struct dmasim_machine *m, const char *name, uint64_t addr,
		    void *buf, size_t len);
int dmasim_bus_write(struct dmasim_machine *m, const char *name,
		     uint64_t addr, const void *buf, size_t len);

/* The Linux struct device of PCI function @name ("0000:00:01.0"), for
 * code that uses the DMA API from outside a driver (tests, examples,
 * benchmarks). NULL if there is none. */
struct device;
struct device *dmasim_pci_device(struct dmasim_machine *m, const char *name);

/* DMA-API debugging: violations found so far (printed or not), and
 * whether to print every one (Linux prints the first only). */
unsigned long dmasim_dma_debug_errors(struct dmasim_machine *m);
void dmasim_dma_debug_all_errors(struct dmasim_machine *m, bool all);

/* The virtual clock: advance by @ns (no effect on a host clock). */
void dmasim_clock_advance(struct dmasim_machine *m, uint64_t ns);
/* Nanoseconds since boot on the machine's clock. */
uint64_t dmasim_clock_ns(struct dmasim_machine *m);

/*
 * Give the calling thread's per-CPU free pages of @m back to the buddy
 * lists. Linux keeps recently freed small blocks (orders 0-3 and 9) on
 * per-CPU lists that /proc/buddyinfo does not count; a thread's lists are
 * also drained when it leaves the machine.
 */
void dmasim_drain_pages(struct dmasim_machine *m);

/* Free pages per zone and order, as /proc/buddyinfo counts them. */
#define DMASIM_NR_ORDERS 11
int dmasim_buddy_counts(struct dmasim_machine *m, const char *zone,
			unsigned long counts[DMASIM_NR_ORDERS]);

/*
 * Parse a size such as "512M", "8G", "1T", "64KiB" (binary units; a bare
 * number is refused: say the unit). Returns 0 or -EINVAL with a message.
 */
int dmasim_parse_size(const char *s, uint64_t *out, char *err, size_t errlen);

const char *dmasim_platform_name(enum dmasim_platform p);
int dmasim_parse_platform(const char *s, enum dmasim_platform *out);

#ifdef __cplusplus
}
#endif
#endif

/*
 * The machine: everything one emulated computer owns. No part of dmasim
 * keeps state outside it, so several machines live in one process.
 */
#ifndef DMASIM_KERNEL_MACHINE_H
#define DMASIM_KERNEL_MACHINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dmasim/dmasim.h"
#include "hw/ram.h"
#include "kernel/bootparams.h"
#include "kernel/clock.h"
#include "kernel/e820.h"
#include "kernel/mmzone.h"
#include "kernel/printk.h"
#include "kernel/resource.h"
#include "kernel/vfs.h"

#define MACHINE_MAX_CPUS 256

struct machine {
	struct dmasim_config cfg;
	char cmdline[DMASIM_CMDLINE_MAX]; /* as given (truncated like Linux) */
	struct mclock clock;
	struct printk_log log;
	struct ram ram;
	struct e820_table e820;	   /* the firmware's map (BIOS-e820) */
	struct e820_table e820_kern; /* after the kernel's edits and mem= */
	struct resource iomem;
	struct boot_params params;
	struct mm mm;
	struct vfs vfs;
	unsigned int nr_cpus;
	_Atomic uint64_t cpu_used[MACHINE_MAX_CPUS / 64];
	struct ratelimit nopage_rs; /* warn_alloc's limit */
};

/* The machine and CPU the calling thread is in (dmasim_enter). */
struct machine *current_machine(void);
int current_cpu(void);

#endif

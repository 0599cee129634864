/*
 * dmasim: boot an emulated machine and look at it as you would at Linux.
 *   dmasim [machine options] COMMAND [options] [arguments]
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

const struct command commands[] = {
	{ "boot", "boot the machine and print what its console printed", "",
	  "  The console shows messages below the console log level (7: all but\n"
	  "  debug); 'quiet' on the kernel command line makes it 4, loglevel=N\n"
	  "  sets it. 'dmasim dmesg' shows every message.\n",
	  cmd_boot },
	{ "dmesg", "print the kernel log, like dmesg(1)", "",
	  "  -r, --raw            prefix each line with its <level>\n"
	  "  -t, --notime         no timestamps\n"
	  "  -l, --level LIST     only these levels: emerg,alert,crit,err,warn,\n"
	  "                       notice,info,debug (comma separated)\n",
	  cmd_dmesg },
	{ "cat", "print files of the machine (/proc/buddyinfo, ...)", "PATH...",
	  "  Files: /proc/buddyinfo, /proc/meminfo, /proc/zoneinfo, /proc/iomem,\n"
	  "  /proc/interrupts, /proc/cmdline, /proc/version; /sys/bus/pci/devices/*/...,\n"
	  "  /sys/class/dma/*/..., /sys/kernel/debug/{swiotlb,dma-api}/...\n"
	  "  Symbolic links are followed, as in Linux's sysfs\n"
	  "  (/sys/bus/pci/devices/*/iommu_group/type). 'dmasim ls PATH' lists a\n"
	  "  directory; --write PATH=VALUE writes a file first.\n",
	  cmd_cat },
	{ "ls", "list directories of the machine", "[-l] [PATH...]",
	  "  -l                   show where symbolic links point: NAME -> TARGET\n"
	  "  Lists / when no path is given; a link to a directory lists the\n"
	  "  directory (with -l, a link given as PATH shows the link itself).\n",
	  cmd_ls },
	{ "readlink", "print where symbolic links of the machine point", "PATH...",
	  "  Prints each link's target as Linux's readlink(1) does, relative to\n"
	  "  the link's directory (e.g. ../../../kernel/iommu_groups/2).\n",
	  cmd_readlink },
	{ "lspci", "list PCI devices, like lspci(8)", "[-t] [-v] [-n] [-s [[BB]:][DD][.F]]",
	  "  -t                   show the bus tree\n"
	  "  -v                   verbose: BARs, capabilities, bus mastering, driver\n"
	  "  -n                   numeric IDs instead of names\n"
	  "  -s [[BB]:][DD][.F]   only the matching devices\n",
	  cmd_lspci },
	{ "devices", "list the device types --device accepts, with their options", "",
	  "", cmd_devices },
	{ "dmatest", "test the DMA engine like Linux's dmatest module", "[options]",
	  "  --iterations N       tests per thread (default 100)\n"
	  "  --threads N          threads per channel (default 1)\n"
	  "  --channels N         channels to use (0, default: all)\n"
	  "  --test-buf-size N    buffer size in bytes (default 16384)\n"
	  "  --memset             test fills instead of copies\n"
	  "  --noverify           do not check the data\n"
	  "  --timeout MS         per test (default 3000; -1 or 0: forever)\n"
	  "  --polled             poll for completion instead of interrupts\n"
	  "  --norandom           whole buffers, no random lengths and offsets\n"
	  "  --alignment N        lengths and offsets aligned to 2^N\n"
	  "  --transfer-size N    a fixed length instead of random ones\n"
	  "  --verbose            a result line for each passed test too\n"
	  "  --seed N             reproducible lengths and offsets\n"
	  "  Lines go to the kernel log and to stdout; exit 0 only if no test failed.\n",
	  cmd_dmatest },
	{ "bench", "run a benchmark", "NAME [--json] [options]",
	  "  boot        boot time and resident memory of a machine (--ram to size it)\n"
	  "  buddy       page allocator: order-0 and order-9 alloc+free pairs, 1 and 2 threads\n"
	  "  pio-vs-dma  the same disk read by PIO and by DMA: throughput, CPU busy,\n"
	  "              interrupts; and DMA overlapped with CPU work (--mib N)\n"
	  "  dma-copy    dmac copies against memcpy of the same buffers, 4 KiB to 64 MiB;\n"
	  "              --iommu adds rows through VT-d with 2 MiB and 4 KiB pages\n"
	  "  map         dma_map_single+dma_unmap_single latency, as Linux's dma_map_benchmark:\n"
	  "              -t THREADS (1-1024) -s SECONDS (1-300, default 1) -g GRANULE pages\n"
	  "              --dir 0|1|2 (bidirectional, to device, from device; -d is --device)\n"
	  "              -b DMA_BITS (20-64, default 64)\n"
	  "              --path direct|bounce|iommu-lazy|iommu-strict\n"
	  "  iova        IOVA allocator: alloc_iova_fast+free_iova_fast and alloc_iova+__free_iova\n"
	  "              pairs, 1 and 16 pages; -t THREADS (default 1 and 2) -s SECONDS\n"
	  "  --json      one JSON object instead of a table\n"
	  "  'dmasim bench' with no name lists the benchmarks.\n",
	  cmd_bench },
	{ "vfio", "assign a device's IOMMU group to a VM, VFIO style", "[--guest-mem SIZE] [DEVICE]",
	  "  Moves every device of DEVICE's IOMMU group (default: the first device\n"
	  "  with a driver) from its host driver to vfio-pci, gives the group to a VM\n"
	  "  whose memory (--guest-mem, default 16M, a multiple of 4M) is mapped at\n"
	  "  guest-physical addresses in its own IOMMU domain, shows the device's DMA\n"
	  "  reaching guest memory and blocked from the host's, then gives it back.\n"
	  "  Needs an IOMMU: --cmdline intel_iommu=on, or --iommu-hw amd.\n",
	  cmd_vfio },
	{ "attack", "run DMA attacks from a rogue device under each IOMMU policy",
	  "NAME|all [--policy P] [--json]",
	  "  scan             PCILeech: read all of RAM for a secret, set a credential to\n"
	  "                   root, then read and write the IOMMU's own tables\n"
	  "  subpage          Thunderclap: a 2 KiB rx buffer exposes the rest of its page\n"
	  "  stale-iotlb      replay an IOVA after unmap (the flush queue's window)\n"
	  "  open-descriptor  never complete a transmit; then a driver watchdog\n"
	  "  shared-group     function 1 of a card without ACS uses function 0's IOVAs\n"
	  "                   (one IOMMU group, one domain)\n"
	  "  shared-group-acs the same with ACS on function 0 (two groups)\n"
	  "  bounce-pool      32-bit DMA on 8 GiB: another device's bounced data left\n"
	  "                   in the swiotlb pool after unmap\n"
	  "  ats              claim ATS, then send translated requests that bypass\n"
	  "                   translation (the machine has --ats: an ATSR)\n"
	  "  all              every attack under every policy, as a table\n"
	  "  --policy P       only this policy: no-iommu, passthrough, lazy, strict,\n"
	  "                   untrusted, amd-lazy, amd-strict\n"
	  "  --json           {\"results\":[{\"attack\",\"policy\",\"bytes_leaked\",\n"
	  "                   \"bytes_corrupted\",\"faults\",\"verdict\"},...]}\n"
	  "  With --cmdline or --iommu-hw, one run on that machine instead of the\n"
	  "  policies. Runs are deterministic (virtual clock, inline devices).\n"
	  "  'dmasim attack' with no name lists the attacks and policies.\n",
	  cmd_attack },
	{ "demo", "a narrated tour of the machine", "",
	  "  Boot log, zones and the buddy allocator before and after allocations,\n"
	  "  a zone running out, and the same disk read by PIO and by DMA.\n",
	  cmd_demo },
	{ "help", "show help for a command", "[COMMAND]", "", cmd_help },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct command *command_find(const char *name)
{
	for (const struct command *c = commands; name && c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void print_common_help(FILE *out)
{
	fputs("Machine options (any command):\n"
	      "  -m, --ram SIZE       installed RAM: 128M to 4T, e.g. 512M, 8G, 1T (default 8G)\n"
	      "  -p, --platform NAME  x86 (DMA is cache-coherent, default) or arm64 (it is not)\n"
	      "  -c, --cmdline TEXT   kernel command line, e.g. \"mem=2G loglevel=4\"\n"
	      "      --smp N          number of CPUs (default: the host's)\n"
	      "      --clock MODE     host (default) or virtual (timestamps stay 0 unless\n"
	      "                       advanced: reproducible logs)\n"
	      "  -d, --device SPEC    add a PCI device, QEMU style: TYPE[,id=ID][,bus=ID]\n"
	      "                       [,addr=[BB:]DD[.F]][,key=value...]; repeatable\n"
	      "                       ('dmasim devices' lists the types and their options)\n"
	      "      --nodefaults     no default devices (only the host bridge)\n"
	      "      --inline         run device engines on the doorbell write instead of\n"
	      "                       on their own threads (deterministic, same results)\n"
	      "      --cache-line N   CPU cache line in bytes on arm64 (default 64)\n"
	      "      --iommu-hw HW    DMA remapping hardware: intel (VT-d, default on x86;\n"
	      "                       the kernel uses it with intel_iommu=on), amd (AMD-Vi\n"
	      "                       at 00:00.2; on unless amd_iommu=off) or none\n"
	      "      --ats            the DMAR table has an ATSR for all root ports: the\n"
	      "                       kernel may enable PCIe ATS for trusted devices with\n"
	      "                       the capability (e.g. rogue,ats=on) below them\n"
	      "      --write PATH=VALUE\n"
	      "                       write VALUE to a file of the machine once it has\n"
	      "                       booted, before the command runs, as 'echo VALUE >\n"
	      "                       PATH' does (/sys/kernel/iommu_groups/N/type takes\n"
	      "                       identity, DMA, DMA-FQ, auto); repeatable, in order;\n"
	      "                       a refused write fails the command (status 1)\n",
	      out);
}

static void print_usage(FILE *out)
{
	fputs("usage: dmasim [machine options] COMMAND [options] [arguments]\n\n"
	      "dmasim models a machine's DMA path in user space: RAM and its zones,\n"
	      "PCI devices that bus-master, DMA engines, interrupts, and a small\n"
	      "kernel with Linux's DMA API that prints what Linux prints.\n\n"
	      "Commands:\n",
	      out);
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-9s %s\n", c->name, c->summary);
	fputc('\n', out);
	print_common_help(out);
	fputs("\nExamples:\n"
	      "  dmasim boot\n"
	      "  dmasim cat /proc/buddyinfo | grep DMA\n"
	      "  dmasim dmesg --cmdline mem=2G | grep -i zone\n"
	      "  dmasim --ram 64G cat /proc/zoneinfo\n"
	      "  dmasim bench boot --json\n"
	      "  dmasim lspci -t\n"
	      "  dmasim --device pcie-root-port,id=rp1 --device disk,bus=rp1,speed=sata \\\n"
	      "         cat /proc/interrupts\n"
	      "  dmasim -c intel_iommu=on ls -l /sys/bus/pci/devices/0000:00:02.0\n"
	      "  dmasim -c intel_iommu=on --write /sys/kernel/iommu_groups/1/type=identity \\\n"
	      "         cat /sys/kernel/iommu_groups/1/type\n"
	      "  dmasim bench pio-vs-dma\n"
	      "  dmasim dmatest --iterations 1000\n\n"
	      "'dmasim help COMMAND' tells more about a command.\n",
	      out);
}

void print_command_help(const struct command *c, FILE *out)
{
	if (!c) {
		print_usage(out);
		return;
	}
	fprintf(out, "usage: dmasim %s [machine options]%s%s\n\n%s.\n", c->name,
		c->usage[0] ? " " : "", c->usage, c->summary);
	if (c->details[0])
		fprintf(out, "\n%s", c->details);
	if (strcmp(c->name, "help")) {
		fputc('\n', out);
		print_common_help(out);
	}
}

int cmd_help(struct cli *cli, int argc, char **argv)
{
	int i = cli_parse(cli, argc, argv, NULL);
	const struct command *c;

	if (i < 0)
		return EXIT_USAGE;
	if (i >= argc) {
		print_usage(stdout);
		return 0;
	}
	c = command_find(argv[i]);
	if (!c) {
		cli_error(cli, "no command '%s' (see 'dmasim --help')", argv[i]);
		return EXIT_USAGE;
	}
	print_command_help(c, stdout);
	return 0;
}

/* Options given before the command word. Returns its index, or -1. */
static int parse_global(struct cli *cli, int argc, char **argv)
{
	int opt, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:" CLI_COMMON_SHORTOPTS "hV",
				  cli_common_opts, NULL)) != -1) {
		if (opt == 'h') {
			print_usage(stdout);
			exit(0);
		}
		if (opt == 'V') {
			printf("dmasim %s\n", DMASIM_VERSION);
			exit(0);
		}
		if (opt == '?' || opt == ':') {
			cli_error(NULL, "%s option '%s' (see 'dmasim --help')",
				  opt == ':' ? "missing value for" : "unknown",
				  argv[optind - 1]);
			return -1;
		}
		r = cli_common_option(cli, opt, optarg);
		if (r < 0) { /* --help, the one common option left */
			print_usage(stdout);
			exit(0);
		}
		if (r)
			return -1;
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const struct command *c;
	int i;

	dmasim_config_init(&cli.cfg);
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("dmasim %s\n", DMASIM_VERSION);
		return 0;
	}
	i = parse_global(&cli, argc, argv);
	if (i < 0)
		return EXIT_USAGE;
	if (i >= argc) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	c = command_find(argv[i]);
	if (!c) {
		cli_error(NULL, "'%s' is not a dmasim command (see 'dmasim --help')",
			  argv[i]);
		return EXIT_USAGE;
	}
	cli.cmd = c->name;
	return c->run(&cli, argc - i, argv + i);
}

#!/bin/bash
# The dmasim command as a user meets it: exit codes (0 ok, 1 failed, 2 bad
# usage), the exact error messages, and pipelines like the seed's commands.
# Usage: test_cli.sh PATH/TO/dmasim
set -u
D=$1
pass=0 fail=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

run() { "$D" "$@" >"$out" 2>"$err"; echo $?; }
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; echo "  stdout: $(head -c 400 "$out")"; echo "  stderr: $(head -c 400 "$err")"; }
# expect CODE 'exact stderr or empty' ARGS...
expect() {
	local code=$1 msg=$2; shift 2
	local rc; rc=$(run "$@")
	if [ "$rc" != "$code" ]; then bad "dmasim $* exited $rc, expected $code"; return; fi
	if [ -n "$msg" ] && [ "$(cat "$err")" != "$msg" ]; then bad "dmasim $*: stderr differs, expected: $msg"; return; fi
	ok
}
# has 'regex' : last stdout matches
has() { if grep -Eq -- "$1" "$out"; then ok; else bad "output lacks /$1/"; fi; }

expect 1 "dmasim: /proc/nope: No such file or directory" cat /proc/nope
expect 1 "dmasim: /proc: Is a directory" cat /proc
expect 1 "dmasim: /proc/buddyinfo/x: Not a directory" cat /proc/buddyinfo/x
expect 1 "dmasim: /nope: No such file or directory" cat /proc/cmdline /nope
has '^$'
expect 0 "" cat /proc/buddyinfo
has '^Node 0, zone      DMA( +[0-9]+){11} $'
expect 0 "" cat ///proc/./../proc/buddyinfo
has '^Node 0, zone   Normal '
expect 2 "dmasim cat: which file? e.g. dmasim cat /proc/buddyinfo" cat
expect 0 "" ls /proc
has '^buddyinfo$'
has '^zoneinfo$'
expect 0 "" ls
has '^proc$'
expect 1 "dmasim: cannot access '/nope': No such file or directory" ls /nope

expect 2 "dmasim: --ram '8': missing unit (use K, M, G or T, e.g. 8G)" --ram 8 boot
expect 2 "dmasim boot: --ram '8X': unknown unit 'X' (use K, M, G or T)" boot --ram 8X
expect 2 "dmasim: --ram '64M': must be from 128M to 4T" --ram 64M boot
expect 2 "dmasim: --ram '131073K': must be a whole number of MiB" --ram 131073K boot
expect 2 "dmasim: --platform 'sparc': unknown platform (use x86 or arm64)" --platform sparc boot
expect 2 "dmasim: --smp '0': expected a CPU count from 1 to 256" --smp 0 boot
expect 2 "dmasim: --clock 'fast': use host or virtual" --clock fast boot
expect 2 "dmasim: unknown option '--bogus' (see 'dmasim --help')" --bogus boot
expect 2 "dmasim cat: unknown option '--bogus' (see 'dmasim help cat')" cat --bogus /proc/meminfo
expect 2 "dmasim cat: option '--ram' needs a value (see 'dmasim help cat')" cat /proc/meminfo --ram
expect 2 "dmasim: 'frob' is not a dmasim command (see 'dmasim --help')" frob
expect 2 "dmasim dmesg: --level: unknown level 'loud' (use emerg, alert, crit, err, warn, notice, info, debug)" dmesg -l loud
expect 2 "dmasim boot: unexpected argument 'now'" boot now
expect 2 "dmasim help: no command 'nope' (see 'dmasim --help')" help nope
expect 2 "" 

expect 0 "" --help
has '^usage: dmasim'
expect 0 "" help cat
has '^usage: dmasim cat'
expect 0 "" cat --help
has '^usage: dmasim cat'
expect 0 "" --version
has '^dmasim [0-9]+\.[0-9]+\.[0-9]+$'

# The machine boots as Linux would with a bad parameter, and says so.
expect 0 "dmasim: warning: kernel command line: malformed early option 'mem=abc' (ignored)" --cmdline mem=abc boot
expect 1 "dmasim boot: cannot boot the machine: kernel command line: mem=1M leaves too little memory to boot (the kernel needs RAM up to at least 128M)" boot --cmdline mem=1M

# Options before or after the command word, and the seed's pipelines.
expect 0 "" --ram 512M cat /proc/meminfo
has '^MemTotal: +[0-9]{6} kB$'
expect 0 "" cat /proc/meminfo --ram 512M -c quiet
has '^MemTotal: +[0-9]{6} kB$'
[ "$("$D" cat /proc/buddyinfo | grep -c DMA)" = 2 ] && ok || bad "cat /proc/buddyinfo | grep DMA"
"$D" dmesg --cmdline "intel_iommu=on" | grep -qi 'Command line: intel_iommu=on' && ok || bad "dmesg | grep -i iommu"
"$D" dmesg | grep -qi 'zone ranges' && ok || bad "dmesg | grep -i zone"
expect 0 "" dmesg --clock virtual -r -l debug
has '^<7>\[    0\.000000\] e820: update \[mem 0x00000000-0x00000fff\] usable ==> reserved$'
expect 0 "" dmesg -t -l info
has '^Zone ranges:$'
# quiet keeps the console to warnings and worse; dmesg still has it all
expect 0 "" boot --cmdline quiet
[ ! -s "$out" ] && ok || bad "boot with quiet printed info lines"
expect 0 "" --platform arm64 cat /proc/cmdline -c "a b"
[ "$(cat "$out")" = "a b" ] && ok || bad "/proc/cmdline"

expect 0 "" bench
has '^  boot '
expect 0 "" bench boot --json --ram 512M
has '^\{"ram_bytes":536870912,"boot_ms":[0-9.]+,"rss_bytes":[0-9]+,'
expect 2 "dmasim bench: no benchmark 'nope' (run 'dmasim bench' for the list)" bench nope
expect 0 "" demo --ram 512M
has 'those of boot again: yes, they are'
has 'page allocation failure: order:8, mode:0xcc1\(GFP_KERNEL\|GFP_DMA\)'
has 'arm64 \(non-coherent\), no sync: "old CPU data"'
has 'arm64 with the sync: +"new DMA data"'
has 'no swiotlb pool'
has 'DMA-API: pci 0000:00:00\.0: device driver frees DMA memory with different size'
expect 0 "" demo
has 'the device gets 0x[0-9a-f]+$'
has 'io_tlb_used 2,'
has 'read  the mapped buffer at 0x[0-9a-f]+ +allowed \("for the device"\)$'
has '^  write the same buffer +BLOCKED$'
has 'DMAR: \[DMA Write NO_PASID\] Request device \[00:01\.0\] fault addr 0x[0-9a-f]+ \[fault reason 0x05\] PTE Write access is not set$'
has '^== 11\. VFIO: a VM drives a device directly, the host stays protected ==$'
has '^== 12\. A malicious device: DMA into kernel memory, with and without the IOMMU ==$'
has '^  => ATTACK SUCCEEDED: secret read, credential is root$'
has '^  => blocked: nothing found, targets unchanged \(0 bytes changed\)$'
has '^  read  host kernel page 0x[0-9a-f]+ +BLOCKED$'

# PCI: lspci, the tree, devices, and bad device specs (exit 2, named)
expect 0 "" lspci
has '^00:00\.0 Host bridge: Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller$'
has '^00:02\.0 System peripheral: dmasim DMA controller \(rev 01\)$'
has '^01:00\.0 IDE interface: dmasim ATA disk controller \(rev 01\)$'
expect 0 "" lspci -n
has '^00:02\.0 0880: d3a5:0001 \(rev 01\)$'
expect 0 "" lspci -nn -s 00:01.0
has '^00:01\.0 PCI bridge \[0604\]: Red Hat, Inc\. QEMU PCIe Root port \[1b36:000c\]$'
[ "$(wc -l <"$out")" = 1 ] && ok || bad "lspci -s selected more than one device"
expect 0 "" lspci -t
[ "$(cat "$out")" = "-[0000:00]-+-00.0
           +-01.0-[01]----00.0
           \-02.0" ] && ok || bad "lspci -t tree"
expect 0 "" --nodefaults -d pcie-root-port,id=r -d x3130-upstream,id=u,bus=r -d xio3130-downstream,id=a,bus=u -d xio3130-downstream,id=b,bus=u,addr=1 -d disk,bus=a -d disk,bus=b lspci -t
[ "$(cat "$out")" = "-[0000:00]-+-00.0
           \-01.0-[01-04]----00.0-[02-04]--+-00.0-[03]----00.0
                                           \-01.0-[04]----00.0" ] && ok || bad "lspci -t nested tree"
expect 0 "" lspci -v -s 01.0
has '^	Memory behind bridge: fc000000-fc0fffff \[size=1M\] \[32-bit\]$'
has '^	Capabilities: \[100\] Access Control Services$'
expect 2 "dmasim lspci: -s 'zz': expected [[BB]:][DD][.F] in hexadecimal" lspci -s zz
expect 0 "" devices
has '^  pcie-root-port '
has '^  dmac '
expect 2 "dmasim boot: --device 'warp-drive': unknown device type 'warp-drive' (known: dmac disk rogue pcie-root-port x3130-upstream xio3130-downstream pcie-pci-bridge)" boot --device warp-drive
expect 2 "dmasim lspci: --device 'disk,bus=rp9': bus 'rp9' does not exist (buses are pcie.0 and the ids of bridges and ports given before)" lspci -d disk,bus=rp9
expect 0 "" cat /sys/bus/pci/devices/0000:00:02.0/vendor
[ "$(cat "$out")" = "0xd3a5" ] && ok || bad "sysfs vendor"
expect 0 "" cat /proc/interrupts
has '^ +CPU0 '

# the IOMMU as on Linux
expect 0 "" dmesg --cmdline intel_iommu=on
has '^\[ *[0-9.]+\] DMAR: IOMMU enabled$'
has '^\[ *[0-9.]+\] iommu: Default domain type: Translated $'
has '^\[ *[0-9.]+\] pci 0000:01:00\.0: Adding to iommu group 3$'
has '^\[ *[0-9.]+\] DMAR: Intel\(R\) Virtualization Technology for Directed I/O$'
expect 0 "" ls /sys/kernel/iommu_groups/ --cmdline intel_iommu=on
[ "$(cat "$out")" = "0
1
2
3" ] && ok || bad "iommu_groups listing"
expect 0 "" cat /sys/kernel/iommu_groups/1/type -c "intel_iommu=on iommu.strict=1"
[ "$(cat "$out")" = "DMA" ] && ok || bad "group type strict"
expect 1 "dmasim: cannot access '/sys/kernel/iommu_groups': No such file or directory" ls /sys/kernel/iommu_groups
# sysfs links and writes, as Linux lays them out
expect 0 "" -c intel_iommu=on ls -l /sys/bus/pci/devices/0000:00:02.0/
has '^iommu_group -> \.\./\.\./\.\./kernel/iommu_groups/2$'
has '^driver -> \.\./\.\./\.\./bus/pci/drivers/dmac$'
has '^vendor$'
expect 0 "" -c intel_iommu=on ls -l /sys/bus/pci/devices/0000:01:00.0
[ "$(cat "$out")" = "/sys/bus/pci/devices/0000:01:00.0 -> ../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0" ] && ok || bad "ls -l of a link"
expect 0 "" -c intel_iommu=on ls /sys/class/iommu/dmar0
[ "$(cat "$out")" = "devices
intel-iommu" ] && ok || bad "ls through a link"
expect 0 "" -c intel_iommu=on readlink /sys/class/iommu/dmar0 /sys/kernel/iommu_groups/3/devices/0000:01:00.0
[ "$(cat "$out")" = "../../devices/virtual/iommu/dmar0
../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0" ] && ok || bad "readlink"
expect 1 "dmasim: /proc/buddyinfo: Invalid argument" readlink /proc/buddyinfo
expect 2 "dmasim readlink: which link? e.g. dmasim readlink /sys/class/iommu/dmar0" readlink
expect 0 "" -c intel_iommu=on cat /sys/bus/pci/devices/0000:00:02.0/iommu_group/type
[ "$(cat "$out")" = "DMA-FQ" ] && ok || bad "cat through iommu_group"
expect 0 "" -c intel_iommu=on --write /sys/kernel/iommu_groups/1/type=identity cat /sys/kernel/iommu_groups/1/type
[ "$(cat "$out")" = "identity" ] && ok || bad "--write type=identity"
expect 0 "" -c intel_iommu=on --write /sys/kernel/iommu_groups/1/type=identity --write /sys/kernel/iommu_groups/1/type=DMA cat /sys/kernel/iommu_groups/1/type
[ "$(cat "$out")" = "DMA" ] && ok || bad "--write twice, in order"
expect 0 "" --iommu-hw amd cat /sys/kernel/iommu_groups/1/type --write /sys/kernel/iommu_groups/1/type=DMA
[ "$(cat "$out")" = "DMA" ] && ok || bad "--write after the command word"
expect 1 "dmasim cat: --write /sys/kernel/iommu_groups/2/type=identity: Device or resource busy
dmasim: kernel: iommu: Device is still bound to driver" -c intel_iommu=on --write /sys/kernel/iommu_groups/2/type=identity cat /sys/kernel/iommu_groups/2/type
expect 1 "dmasim dmesg: --write /sys/kernel/iommu_groups/1/type=nope: Invalid argument" -c intel_iommu=on dmesg --write /sys/kernel/iommu_groups/1/type=nope
expect 1 "dmasim boot: --write /proc/meminfo=1: Permission denied" boot --write /proc/meminfo=1
expect 1 "dmasim boot: --write /sys/kernel/iommu_groups/1/type=DMA: No such file or directory
dmasim: (groups exist when an IOMMU is in use: --cmdline intel_iommu=on, or --iommu-hw amd)" boot --write /sys/kernel/iommu_groups/1/type=DMA
expect 2 "dmasim: --write 'type': expected PATH=VALUE, e.g. /sys/kernel/iommu_groups/1/type=identity" --write type boot
expect 0 "" -c intel_iommu=on dmatest --iterations 20
has 'summary 20 tests, 0 failures'
expect 0 "" --iommu-hw none dmesg
! grep -q DMAR "$out" && ok || bad "--iommu-hw none still has DMAR lines"
expect 2 "dmasim: --iommu-hw 'smmu': use intel, amd or none" --iommu-hw smmu boot
expect 0 "" -c "intel_iommu=on,bogus" boot
grep -qx "dmasim: warning: kernel command line: intel_iommu: unknown option 'bogus' (ignored, as Linux does)" "$err" && ok || bad "no warning for intel_iommu=bogus"
expect 0 "" --iommu-hw amd -c amd_iommu=on boot
grep -qx "dmasim: warning: kernel command line: amd_iommu: unknown option 'on' (ignored, as Linux does; AMD-Vi is on unless amd_iommu=off)" "$err" && ok || bad "no warning for amd_iommu=on"
# vfio: the group moves to vfio-pci, the VM's DMA is confined, the group comes back
expect 0 "" --cmdline intel_iommu=on vfio 0000:01:00.0
grep -q 'vfio: group 3 is not viable: 0000:01:00.0 is bound to dmasim_ata' "$out" && ok || bad "vfio: no viability message"
grep -q '^  0000:01:00.0  driver vfio-pci$' "$out" && ok || bad "vfio: not bound to vfio-pci"
grep -Eq '^  write guest-physical 0x2000 +reached$' "$out" && ok || bad "vfio: guest write"
grep -Eq '^  read  host kernel page 0x[0-9a-f]+ +BLOCKED$' "$out" && ok || bad "vfio: host read not blocked"
grep -q 'DMAR: \[DMA Read NO_PASID\] Request device \[01:00.0\]' "$out" && ok || bad "vfio: no DMAR line"
tail -1 "$out" | grep -q '^  0000:01:00.0  driver dmasim_ata$' && ok || bad "vfio: driver not given back"
expect 1 "dmasim vfio: 0000:01:00.0 is in no IOMMU group: no IOMMU translates this machine's DMA (boot with intel_iommu=on, or use --iommu-hw amd)" vfio 01:00.0
expect 1 "dmasim vfio: 0000:01:00.0 is in no IOMMU group: no IOMMU translates this machine's DMA (VT-d and AMD-Vi are modelled on --platform x86 only)" --platform arm64 vfio 01:00.0
expect 1 "dmasim vfio: 0000:00:01.0 is a PCI bridge: vfio-pci takes endpoints (type 0 headers) only" -c intel_iommu=on vfio 00:01.0
expect 2 "dmasim attack: the attacks run on --platform x86 (the IOMMU policies are VT-d and AMD-Vi)" --platform arm64 attack all
expect 2 "dmasim attack: --policy and --cmdline/--iommu-hw: give one or the other" -c intel_iommu=on attack all --policy strict
expect 2 "dmasim attack: the attacks build their own devices: --device and --nodefaults do not apply" --nodefaults attack scan
expect 2 "dmasim bench: --path iommu-lazy needs an IOMMU (--platform x86, not --iommu-hw none)" --platform arm64 bench map --path iommu-lazy
expect 0 "" --iommu-hw amd demo
has '^  pci 0000:00:01\.0: AMD-Vi: Event logged \[IO_PAGE_FAULT domain=0x[0-9a-f]{4} address=0x[0-9a-f]+ flags=0x0070\]$'
has '^amd-lazy: AMD-Vi \(on by default\), flush queue$'
expect 0 "" --iommu-hw none demo
! grep -q '^== 1[012]\.' "$out" && ok || bad "--iommu-hw none demo shows the IOMMU steps"
expect 2 "dmasim vfio: --guest-mem '3M': a multiple of 4M up to 64G" --iommu-hw amd vfio --guest-mem 3M
expect 1 "dmasim vfio: no PCI device 07:00.0 (see dmasim lspci)" --iommu-hw amd vfio 07:00.0
expect 2 "dmasim vfio: unexpected argument 'b'" --iommu-hw amd vfio a b

expect 0 "" --iommu-hw amd dmesg
grep -q '^\[.*\] pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40$' "$out" && ok || bad "--iommu-hw amd: no 'Found IOMMU cap' line"
! grep -q DMAR "$out" && ok || bad "--iommu-hw amd has DMAR lines"
expect 0 "" --iommu-hw amd lspci -s 00:00.2
grep -qx '00:00.2 IOMMU: Advanced Micro Devices, Inc. \[AMD\] Starship/Matisse IOMMU' "$out" && ok || bad "lspci: the AMD-Vi function"
expect 0 "" -c intel_iommu=on lspci -v -s 01:00.0
has '^	Flags: bus master, fast devsel, latency 0, IRQ [0-9]+, IOMMU group 3$'
expect 0 "" --iommu-hw amd lspci -v -s 00:00.2
has '^	Capabilities: \[40\] Secure device <\?>$'
expect 2 "" --iommu-hw amd -d amd-iommu boot
grep -q "unknown device type 'amd-iommu'" "$err" && ok || bad "--device amd-iommu accepted"

# attack: the suite, one attack, the table as JSON, bad input
expect 0 "" attack scan
grep -q '^== scan under lazy: translated, flush queue (the x86 default)$' "$out" && ok || bad "attack scan: no lazy run"
grep -q '^   machine: --cmdline "intel_iommu=on"$' "$out" && ok || bad "attack scan: no machine line"
grep -q '^   | DMAR: \[DMA Read NO_PASID\] Request device \[02:00.0\] fault addr 0x0 \[fault reason 0x06\] PTE Read access is not set$' "$out" && ok || bad "attack scan: no DMAR line"
grep -q '^   verdict: ATTACK SUCCEEDED: secret read, credential is root$' "$out" && ok || bad "attack scan: no success without an IOMMU"
expect 0 "" attack all --json
grep -Eq '^\{"results":\[\{"attack":"scan","policy":"no-iommu","bytes_leaked":[0-9]+,"bytes_corrupted":32,"faults":[0-9]+,"verdict":"ATTACK SUCCEEDED: secret read, credential is root"\},' "$out" && ok || bad "attack all --json: shape"
grep -q '{"attack":"stale-iotlb","policy":"strict","bytes_leaked":0,"bytes_corrupted":0,"faults":20,"verdict":"blocked: 0 accesses after unmap"}' "$out" && ok || bad "attack all --json: stale-iotlb strict"
tail -c 4 "$out" | grep -q '}]}' && ok || bad "attack all --json: not closed"
expect 0 "" attack subpage --policy untrusted
has '^== subpage under untrusted'
has 'verdict: blocked: the table is unchanged'
expect 0 "" --iommu-hw amd attack stale-iotlb --cmdline iommu.strict=1
has '^== stale-iotlb under custom: as given$'
has '^   machine: --iommu-hw amd --cmdline "iommu.strict=1"$'
expect 0 "" attack ats --policy untrusted
has '^   verdict: blocked: translated requests refused, targets unchanged \(0 bytes changed\)$'
expect 0 "" attack ats --policy strict
has '^   verdict: ATTACK SUCCEEDED: translated requests reached RAM: secret read, credential is root$'
expect 0 "" attack
has '^  open-descriptor '
expect 2 "dmasim attack: no attack 'nope' (run 'dmasim attack' for the list)" attack nope
expect 2 "dmasim attack: --policy 'lax': unknown policy (run 'dmasim attack' for the list)" attack scan --policy lax
expect 2 "dmasim attack: unexpected argument 'subpage'" attack scan subpage
expect 0 "" attack shared-group --policy lazy
has '^   kernel: A \(0000:02:00\.0\) and B \(0000:02:00\.1\) are both in iommu group [0-9]+: one domain$'
has "verdict: ATTACK SUCCEEDED: read A's packet, forged A's rx data \(one group, one domain\)$"
expect 0 "" attack shared-group-acs --policy strict --json
has "^\{\"results\":\[\{\"attack\":\"shared-group-acs\",\"policy\":\"strict\",\"bytes_leaked\":0,\"bytes_corrupted\":0,\"faults\":2,\"verdict\":\"blocked: B's domain maps none of A's IOVAs \(separate domains\)\"\}\]\}$"
expect 0 "" attack bounce-pool --policy no-iommu
has '^   kernel: swiotlb pool \[mem 0x[0-9a-f]+-0x[0-9a-f]+\] \(from the boot log\); both NICs limited to 32-bit DMA$'
has "verdict: ATTACK SUCCEEDED: A's packet read from the pool after unmap \(slots are not cleared\); no translation: the pool is plain RAM$"
expect 0 "" attack scan --policy passthrough
has '^   device: VT-d root table at phys 0x[0-9a-f]+: read the page, wrote its entry \(a write there maps anything\)$'
expect 0 "" attack
has '^  shared-group-acs '
has '^  bounce-pool '

# ATS: the machine option --ats (an ATSR for every root port), the
# rogue's ats=on and the root port's atsr=on, what lspci -v shows
expect 0 "" --ats dmesg --cmdline intel_iommu=on
has '^\[ *[0-9.]+\] DMAR: ATSR flags: 0x1$'
if grep -q 'No ATSR found' "$out"; then bad "--ats: 'No ATSR found' printed"; else ok; fi
expect 0 "" dmesg --cmdline intel_iommu=on
has '^\[ *[0-9.]+\] DMAR: No ATSR found$'
expect 0 "" --ats --device pcie-root-port,id=ap --device rogue,bus=ap,ats=on lspci -v --cmdline intel_iommu=on
has '^	Capabilities: \[100\] Address Translation Service \(ATS\)$'
has '^		ATSCtl:	Enable\+, Smallest Translation Unit: 00$'
expect 0 "" --ats --device pcie-root-port,id=ap,external=on --device rogue,bus=ap,ats=on lspci -v --cmdline intel_iommu=on
has '^		ATSCtl:	Enable-, Smallest Translation Unit: 00$'
expect 0 "" --device pcie-root-port,id=ap,atsr=on --device rogue,bus=ap,ats=on lspci -v --cmdline intel_iommu=on
has '^		ATSCtl:	Enable\+'
expect 2 "dmasim dmesg: --device 'rogue,ats=maybe': ats=maybe: expected on or off" --device rogue,ats=maybe dmesg
expect 0 "" --help
has '^      --ats '

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]

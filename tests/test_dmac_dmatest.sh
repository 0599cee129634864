#!/bin/bash
# dmasim dmatest as a user runs it: the summary line in Linux's format,
# the kernel log carrying the same lines, exit codes and option errors.
# Usage: test_dmac_dmatest.sh PATH/TO/dmasim
set -u
D=$1
fail=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
bad() { fail=1; echo "FAIL: $*"; echo "  stdout: $(head -c 600 "$out")"; echo "  stderr: $(head -c 400 "$err")"; }
summary='^dmatest: dma0chan[0-9]-(copy|memset)[0-9]+: summary [0-9]+ tests, 0 failures [0-9]+\.[0-9]{2} iops [0-9]+ KB/s \(0\)$'

"$D" dmatest --iterations 50 --seed 7 >"$out" 2>"$err" || bad "dmatest exited $?"
[ "$(grep -Ec "$summary" "$out")" = 4 ] || bad "four summary lines"
grep -q '^dmatest: Started 1 threads using dma0chan0$' "$out" || bad "Started line"
"$D" dmatest --iterations 30 --memset --threads 2 --channels 2 --polled --inline >"$out" 2>"$err" || bad "memset exited $?"
[ "$(grep -Ec "$summary" "$out")" = 4 ] || bad "memset: four summaries"
grep -q 'dma0chan1-memset1: summary 30 tests' "$out" || bad "memset thread names"
"$D" dmatest --iterations 20 --norandom --noverify --alignment 3 --test-buf-size 4096 \
	--device dmac,id=dmac1,channels=1,mode=inline >"$out" 2>"$err" || bad "norandom exited $?"
grep -q 'dma1chan0-copy0: summary 20 tests, 0 failures' "$out" || bad "second controller is dma1"
"$D" dmatest --iterations 0 >"$out" 2>"$err"; rc=$?
[ $rc = 2 ] && grep -q "^dmasim dmatest: --iterations '0': expected a whole number from 1 to 1000000000$" "$err" || bad "--iterations 0 ($rc)"
"$D" dmatest --transfer-size 20000 >"$out" 2>"$err"; rc=$?
[ $rc = 2 ] && grep -q "larger than --test-buf-size 16384" "$err" || bad "--transfer-size ($rc)"
"$D" dmatest --nodefaults --iterations 1 >"$out" 2>"$err"; rc=$?
[ $rc = 1 ] && grep -q '^dmatest: Could not start test, no channels configured$' "$out" || bad "no channels ($rc)"
exit $fail
